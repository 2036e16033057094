// Package benchkit is what extbridge's benchmarks (package bench, run by
// `make bench`) and the table that summarises them (bench/cmd/benchtable)
// share: the benchmark extension
// ([Extension], the echo fixture plus an in-browser runner), the HTTP server
// the runner reports to ([Server]), and the statistics ([Median],
// [BatchMedian]) that Go, the runner and the peer compute alike.
package benchkit

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/extbridge/extbridge/extfixtures"
)

//go:embed all:benchext
var extFiles embed.FS

// Batch is how many sequential round trips make one timed batch: round-trip
// figures are the median over batches of the mean within a batch.
const Batch = 50

// Burst is how many messages one pipelined burst posts at once.
const Burst = 1000

// Extension writes the benchmark extension (background and content scripts
// echo every port message; runner.js times the port and the wire from a
// content script) to a new folder under dir and returns it.
func Extension(dir string) (string, error) {
	out, err := os.MkdirTemp(dir, "benchext-")
	if err != nil {
		return "", err
	}
	sub, _ := fs.Sub(extFiles, "benchext")
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, filepath.FromSlash(p)), data, 0o644)
	})
	if err != nil {
		os.RemoveAll(out)
		return "", fmt.Errorf("failed to write the benchmark extension: %w", err)
	}
	return out, nil
}

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// BatchMedian splits samples into consecutive batches of size (dropping a
// short last one) and returns the median of the batch means.
func BatchMedian(samples []time.Duration, size int) time.Duration {
	var means []float64
	for i := 0; i+size <= len(samples); i += size {
		var sum time.Duration
		for _, d := range samples[i : i+size] {
			sum += d
		}
		means = append(means, float64(sum)/float64(size))
	}
	if len(means) == 0 && len(samples) > 0 {
		var sum time.Duration
		for _, d := range samples {
			sum += d
		}
		return sum / time.Duration(len(samples))
	}
	return time.Duration(Median(means))
}

// RunnerConfig is what the page URL tells runner.js to do.
type RunnerConfig struct {
	ID     string    `json:"id"`
	Report string    `json:"report"`         // ws:// URL the result goes to
	Wire   string    `json:"wire,omitempty"` // ws:// echo URL; empty: skip the wire
	Ports  []int     `json:"ports"`          // pipelined on this many ports each
	RTT    RTTConfig `json:"rtt"`
	Pipe   PipeCfg   `json:"pipe"`
}

// RTTConfig shapes the sequential round trips.
type RTTConfig struct {
	Warm    int `json:"warm"`
	Batches int `json:"batches"`
	Batch   int `json:"batch"`
}

// PipeCfg shapes the pipelined bursts.
type PipeCfg struct {
	Warm   int `json:"warm"`
	Bursts int `json:"bursts"`
	Burst  int `json:"burst"`
}

// DefaultRunner is the runner's default work: 40 batches of 50 round trips,
// 10 bursts of 1000 messages on 1 and on 16 ports.
func DefaultRunner() RunnerConfig {
	return RunnerConfig{
		Ports: []int{1, 16},
		RTT:   RTTConfig{Warm: 100, Batches: 40, Batch: Batch},
		Pipe:  PipeCfg{Warm: 2, Bursts: 10, Burst: Burst},
	}
}

// Figures are one channel's figures from the runner.
type Figures struct {
	RTTms float64            `json:"rtt_ms"` // median batch-mean round trip
	Pipe  map[string]float64 `json:"pipe"`   // ports → median msgs/s
}

// RunnerResult is what runner.js reports.
type RunnerResult struct {
	ID    string   `json:"id"`
	UA    string   `json:"ua"`
	Port  *Figures `json:"port"` // content script ⇄ background port
	Wire  *Figures `json:"wire"` // content script ⇄ Go WebSocket echo
	Error string   `json:"error"`
}

// Server serves the test pages, a WebSocket echo (/ws/echo) and the
// runner's reports (/ws/report).
type Server struct {
	srv  *http.Server
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	next int
	wait map[string]chan RunnerResult
}

// NewServer starts a Server on 127.0.0.1.
func NewServer() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, wait: map[string]chan RunnerResult{}}
	mux := http.NewServeMux()
	mux.Handle("/", extfixtures.PagesHandler())
	mux.HandleFunc("/ws/echo", s.echo)
	mux.HandleFunc("/ws/report", s.report)
	s.srv = &http.Server{Handler: mux}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the server's base URL, ending in "/".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

func (s *Server) wsURL(path string) string { return "ws://" + s.ln.Addr().String() + path }

// Close stops the server and its connections.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// echo writes back every message it reads, in order.
func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, data); err != nil {
			return
		}
	}
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	_, data, err := c.Read(r.Context())
	if err != nil {
		return
	}
	var res RunnerResult
	if err := json.Unmarshal(data, &res); err != nil {
		res.Error = "bad report: " + err.Error()
	}
	s.mu.Lock()
	ch := s.wait[res.ID]
	delete(s.wait, res.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- res
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// RunnerURL returns the URL of a page that starts the runner with cfg (its
// ID, Report and Wire filled in), and a function that waits for the result.
func (s *Server) RunnerURL(cfg RunnerConfig, wire bool) (string, func(context.Context) (RunnerResult, error)) {
	s.mu.Lock()
	s.next++
	cfg.ID = strconv.Itoa(s.next)
	ch := make(chan RunnerResult, 1)
	s.wait[cfg.ID] = ch
	s.mu.Unlock()
	cfg.Report = s.wsURL("/ws/report")
	if wire {
		cfg.Wire = s.wsURL("/ws/echo")
	}
	js, _ := json.Marshal(cfg)
	u := s.URL() + "index.html#xbbench=" + url.QueryEscape(string(js))
	return u, func(ctx context.Context) (RunnerResult, error) {
		select {
		case res := <-ch:
			if res.Error != "" {
				return res, errors.New("runner: " + res.Error)
			}
			if res.Port == nil || (wire && res.Wire == nil) {
				return res, errors.New("runner: incomplete result")
			}
			return res, nil
		case <-ctx.Done():
			s.mu.Lock()
			delete(s.wait, cfg.ID)
			s.mu.Unlock()
			return RunnerResult{}, fmt.Errorf("the in-browser runner did not report: %w", ctx.Err())
		}
	}
}
