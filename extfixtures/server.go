package extfixtures

import "net/http"

// PagesHandler serves [Pages] over HTTP, with the header
// Content-Security-Policy: default-src 'self' on csp.html.
func PagesHandler() http.Handler {
	files := http.FileServerFS(Pages())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/csp.html" {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
		}
		files.ServeHTTP(w, r)
	})
}
