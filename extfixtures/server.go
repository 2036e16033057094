package extfixtures

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// PagesHandler serves [Pages] over HTTP at their own paths (index.html is
// served as /index.html, not redirected to /), with the header
// Content-Security-Policy: default-src 'self' on csp.html.
func PagesHandler() http.Handler {
	pages := Pages()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		data, err := fs.ReadFile(pages, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if name == "csp.html" {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Write(data)
	})
}
