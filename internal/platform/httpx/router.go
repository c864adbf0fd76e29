package httpx

import (
	"net/http"
	"strings"
)

// Router serves mux, recording each request's route pattern for logs and
// metrics, and answering requests that match no route with a 404 or 405
// problem (with Allow) instead of the mux's plain text.
func Router(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			unrouted(w, r, h)
			return
		}
		if info := InfoFrom(r.Context()); info != nil {
			// "GET /api/v1/users/{user_id}" -> "/api/v1/users/{user_id}":
			// the method is reported on its own.
			if i := strings.IndexByte(pattern, ' '); i >= 0 {
				pattern = pattern[i+1:]
			}
			info.Route = pattern
		}
		mux.ServeHTTP(w, r)
	})
}

// unrouted asks the mux's own handler what it would answer (404, or 405
// with the allowed methods) and says the same as a problem.
func unrouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		WriteProblem(w, StatusProblem(r.Context(), http.StatusMethodNotAllowed,
			"method "+r.Method+" not allowed here; allowed: "+allow))
		return
	}
	WriteProblem(w, StatusProblem(r.Context(), http.StatusNotFound, "no such resource"))
}

// headerProbe is a ResponseWriter that keeps only the status and headers.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }

func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}
