// Package js holds every script extbridge puts into a browser: the bridge
// that runs first in each realm of an instrumented extension (bridge.js),
// and the functions the drivers run through the browsers' own protocols
// (firefox/*.js in Firefox's chrome scope, page/*.js in a web page's
// isolated world, realm-id.js in any realm). They are
// plain .js files, embedded, and checked with `node --check` by the tests.
package js

import (
	_ "embed"
	"encoding/json"
	"strings"
)

//go:embed bridge.js
var bridgeJS string

// configMark is the placeholder in bridge.js that Bridge replaces.
const configMark = "/*EXTBRIDGE_CONFIG*/ null"

// Config is what a bridge script needs to reach Go.
type Config struct {
	URL   string `json:"url"`   // the hub's WebSocket address
	Token string `json:"token"` // the launch's secret
	Ext   int    `json:"ext"`   // the extension's index in the launch
	Realm string `json:"realm"` // "background", "content" or "page"
}

// Bridge returns the bridge script for one realm kind of one extension.
func Bridge(cfg Config) []byte {
	data, _ := json.Marshal(cfg) // a struct of strings and an int always encodes
	return []byte(strings.Replace(bridgeJS, configMark, string(data), 1))
}

// Functions Firefox's driver calls with BiDi script.callFunction in the
// browser window's chrome scope.
var (
	//go:embed firefox/tab-id.js
	FirefoxTabID string
	//go:embed firefox/click-action.js
	FirefoxClickAction string
	//go:embed firefox/stop-background.js
	FirefoxStopBackground string
	//go:embed firefox/wake-background.js
	FirefoxWakeBackground string
	//go:embed firefox/install-eval.js
	FirefoxInstallEval string
	//go:embed firefox/eval.js
	FirefoxEval string
	//go:embed firefox/open-page.js
	FirefoxOpenPage string
	//go:embed firefox/native-manifests.js
	FirefoxNativeManifests string
)

// RealmID is an expression whose value is the id of the bridge realm of the
// world it runs in, or null: the drivers find a realm's world by it.
//
//go:embed realm-id.js
var RealmID string

// Functions both drivers call in an isolated world of a web page.
var (
	//go:embed page/locate.js
	PageLocate string
)
