package e2e

import (
	"net/url"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// A page that floods the console and the DOM does not stall the browser
// connection: the next tab opens, the worker answers, ports work.
func TestPageFloodDoesNotStall(t *testing.T) {
	flood := "data:text/html," + url.PathEscape(`<!DOCTYPE html><body><script>
for (let i = 0; i < 50000; i++) {
  console.log("flood " + i);
  document.body.appendChild(document.createElement("i")).textContent = i;
}
document.title = "flooded";
</script></body>`)
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		e := setup(t, kind)
		ext := e.ext(t, "echo")
		drivertest.NewTab(t, e.b, flood)
		tab := e.tab(t, "index.html?"+url.QueryEscape(unique(t)))
		p := connect(t, contentScript(t, ext, tab, 0), "after-the-flood")
		post(t, p, "still fine")
		drivertest.RecvMatch(t, p, `"still fine"`)
		var n int
		if err := background(t, ext).Eval(drivertest.Context(t), "20 + 22", &n); err != nil || n != 42 {
			t.Fatalf("background Eval after the flood = %d, %v", n, err)
		}
	})
}
