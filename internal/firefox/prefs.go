package firefox

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// defaultPrefs keep Firefox quiet and fast on a machine with no internet: no
// updates, telemetry, first-run pages, captive portal or connectivity checks,
// remote settings, safe browsing, sponsored content or speculative
// connections. Many of them are also in the remote agent's recommended
// preferences; they are repeated so the profile does not depend on it.
var defaultPrefs = map[string]any{
	// Updates of the browser, add-ons, search engines and system add-ons.
	"app.update.disabledForTesting":                      true,
	"app.update.auto":                                    false,
	"app.update.checkInstallTime":                        false,
	"app.update.staging.enabled":                         false,
	"extensions.update.enabled":                          false,
	"extensions.update.autoUpdateDefault":                false,
	"extensions.getAddons.cache.enabled":                 false,
	"extensions.systemAddon.update.enabled":              false,
	"extensions.systemAddon.update.url":                  "",
	"extensions.blocklist.enabled":                       false,
	"extensions.webservice.discoverURL":                  "",
	"extensions.getAddons.discovery.api_url":             "",
	"extensions.htmlaboutaddons.recommendations.enabled": false,
	"extensions.installDistroAddons":                     false,
	"extensions.autoDisableScopes":                       0,
	"extensions.enabledScopes":                           5,
	"xpinstall.signatures.required":                      false,
	"browser.search.update":                              false,
	"browser.region.network.url":                         "",
	"browser.region.update.enabled":                      false,
	"media.gmp-manager.url":                              "",
	"media.gmp-manager.updateEnabled":                    false,

	// Telemetry, studies, experiments and crash reports.
	"datareporting.healthreport.uploadEnabled":                    false,
	"datareporting.policy.dataSubmissionEnabled":                  false,
	"datareporting.policy.dataSubmissionPolicyBypassNotification": true,
	"toolkit.telemetry.enabled":                                   false,
	"toolkit.telemetry.unified":                                   false,
	"toolkit.telemetry.archive.enabled":                           false,
	"toolkit.telemetry.server":                                    "",
	"toolkit.telemetry.shutdownPingSender.enabled":                false,
	"toolkit.telemetry.firstShutdownPing.enabled":                 false,
	"toolkit.telemetry.newProfilePing.enabled":                    false,
	"toolkit.telemetry.updatePing.enabled":                        false,
	"toolkit.telemetry.bhrPing.enabled":                           false,
	"app.normandy.enabled":                                        false,
	"app.normandy.api_url":                                        "",
	"app.shield.optoutstudies.enabled":                            false,
	"messaging-system.rsexperimentloader.enabled":                 false,
	"nimbus.rollouts.enabled":                                     false,
	"browser.ping-centre.telemetry":                               false,
	"browser.crashReports.unsubmittedCheck.autoSubmit2":           false,
	"browser.tabs.crashReporting.sendReport":                      false,
	"toolkit.startup.max_resumed_crashes":                         -1,

	// Remote settings: the remote agent's dummy server answers nothing.
	"services.settings.server":                                   "data:,#remote-settings-dummy/v1",
	"security.remote_settings.crlite_filters.enabled":            false,
	"security.remote_settings.intermediates.enabled":             false,
	"security.certerrors.mitm.priming.enabled":                   false,
	"security.OCSP.enabled":                                      0,
	"browser.safebrowsing.blockedURIs.enabled":                   false,
	"browser.safebrowsing.downloads.enabled":                     false,
	"browser.safebrowsing.downloads.remote.enabled":              false,
	"browser.safebrowsing.malware.enabled":                       false,
	"browser.safebrowsing.phishing.enabled":                      false,
	"browser.safebrowsing.passwords.enabled":                     false,
	"browser.safebrowsing.update.enabled":                        false,
	"browser.safebrowsing.provider.google.updateURL":             "",
	"browser.safebrowsing.provider.google4.updateURL":            "",
	"browser.safebrowsing.provider.mozilla.updateURL":            "",
	"browser.safebrowsing.provider.google.gethashURL":            "",
	"browser.safebrowsing.provider.google4.gethashURL":           "",
	"browser.safebrowsing.provider.mozilla.gethashURL":           "",
	"browser.contentblocking.report.lockwise.enabled":            false,
	"privacy.trackingprotection.annotate_channels":               false,
	"browser.topsites.contile.enabled":                           false,
	"browser.newtabpage.activity-stream.feeds.system.topstories": false,
	"browser.newtabpage.activity-stream.feeds.snippets":          false,
	"browser.newtabpage.activity-stream.showSponsored":           false,
	"browser.newtabpage.activity-stream.showSponsoredTopSites":   false,
	"browser.newtabpage.activity-stream.default.sites":           "",
	"extensions.pocket.enabled":                                  false,
	"identity.fxaccounts.enabled":                                false,
	"browser.translations.enable":                                false,
	"browser.translations.automaticallyPopup":                    false,
	"browser.ml.enable":                                          false,
	"browser.ml.chat.enabled":                                    false,
	"browser.urlbar.suggest.searches":                            false,
	"browser.urlbar.quicksuggest.enabled":                        false,
	"geo.provider.network.url":                                   "",
	"geo.provider.use_geoclue":                                   false,

	// Network checks and speculative connections.
	"network.captive-portal-service.enabled":    false,
	"captivedetect.canonicalURL":                "",
	"network.connectivity-service.enabled":      false,
	"network.trr.mode":                          5,
	"doh-rollout.disable-heuristics":            true,
	"network.dns.disablePrefetch":               true,
	"network.prefetch-next":                     false,
	"network.predictor.enabled":                 false,
	"network.http.speculative-parallel-limit":   0,
	"browser.places.speculativeConnect.enabled": false,
	"browser.urlbar.speculativeConnect.enabled": false,

	// First run, start page, prompts and session restore.
	"browser.shell.checkDefaultBrowser":           false,
	"browser.startup.homepage_override.mstone":    "ignore",
	"browser.startup.page":                        0,
	"browser.startup.homepage":                    "about:blank",
	"startup.homepage_welcome_url":                "about:blank",
	"startup.homepage_welcome_url.additional":     "",
	"browser.aboutwelcome.enabled":                false,
	"trailhead.firstrun.didSeeAboutWelcome":       true,
	"browser.newtabpage.enabled":                  false,
	"browser.newtab.preload":                      false,
	"browser.uitour.enabled":                      false,
	"browser.tabs.warnOnClose":                    false,
	"browser.tabs.warnOnCloseOtherTabs":           false,
	"browser.warnOnQuit":                          false,
	"browser.sessionstore.resume_from_crash":      false,
	"browser.sessionstore.max_resumed_crashes":    0,
	"browser.discovery.enabled":                   false,
	"browser.download.panel.shown":                true,
	"browser.rights.3.shown":                      true,
	"browser.EULA.override":                       true,
	"toolkit.cosmeticAnimations.enabled":          false,
	"dom.disable_open_during_load":                false,
	"browser.dom.window.dump.enabled":             true,
	"devtools.console.stdout.content":             true,
	"extensions.webextensions.warnings-as-errors": false,
}

// userJS returns the text of user.js with the default prefs, the pinned
// extension UUIDs and extra, which wins over both.
func userJS(uuids map[string]string, extra map[string]any) (string, error) {
	prefs := maps.Clone(defaultPrefs)
	if len(uuids) > 0 {
		b, err := json.Marshal(uuids)
		if err != nil {
			return "", fmt.Errorf("failed to encode the extension UUIDs: %w", err)
		}
		prefs["extensions.webextensions.uuids"] = string(b)
	}
	maps.Copy(prefs, extra)
	var sb strings.Builder
	for _, name := range slices.Sorted(maps.Keys(prefs)) {
		v, err := prefValue(prefs[name])
		if err != nil {
			return "", fmt.Errorf("failed to write the pref %s: %w", name, err)
		}
		n, _ := json.Marshal(name)
		fmt.Fprintf(&sb, "user_pref(%s, %s);\n", n, v)
	}
	return sb.String(), nil
}

// prefValue formats a pref value as a JavaScript literal.
func prefValue(v any) (string, error) {
	switch v := v.(type) {
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int32:
		return strconv.Itoa(int(v)), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case string:
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(b), nil
	default:
		return "", fmt.Errorf("unsupported pref type %T (want bool, int or string)", v)
	}
}
