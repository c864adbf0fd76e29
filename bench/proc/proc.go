// Package proc runs the real mitra binary for benchmarks: build it, start
// it on a free loopback port, create accounts through its API, and read
// the process's CPU time and memory.
package proc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mitra/bench/load"
)

// Build compiles ./cmd/mitra into dir and returns the binary's path. It
// runs from the module root.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "mitra")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/mitra").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build: %v: %s", err, out)
	}
	return bin, nil
}

// Server is a running mitra process.
type Server struct {
	cmd *exec.Cmd
	// Base is the server's URL, http://127.0.0.1:PORT.
	Base string
}

// Start runs `bin serve` with the environment (MITRA_* settings) added to
// this process's, on a free 127.0.0.1 port, and waits until it answers.
func Start(bin string, env ...string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), env...), "MITRA_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, Base: "http://" + addr}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(s.Base + "/api/v1/health"); err == nil {
			resp.Body.Close()
			return s, nil
		}
	}
	s.Stop()
	return nil, errors.New("mitra did not start within 60s")
}

// Stop ends the process gracefully (SIGTERM) and waits for it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// CPU returns the process's user and system CPU time so far.
func (s *Server) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks of 10 ms
}

// RSS returns the process's resident memory in bytes.
func (s *Server) RSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// Account is a registered user and its tokens.
type Account struct {
	Email, Access, Refresh string
}

// Password is the password of every benchmark account.
const Password = "correct horse battery staple"

// Register creates n accounts (emails prefix00000@example.com ...),
// parallel at a time, each from its own client address (the server must
// trust 127.0.0.1 as a proxy so the per-IP sign-up limit does not apply).
// Each sign-up hashes a password with 19 MiB of memory: a benchmark that
// then reads the server's memory registers one at a time.
func Register(base, prefix string, n, parallel int) ([]Account, error) {
	out := make([]Account, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, max(1, parallel))
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("%s%05d@example.com", prefix, i)
			var t struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			if err := PostJSON(base+"/api/v1/auth/register", map[string]string{"email": email, "password": Password, "name": "Bench"}, &t); err != nil {
				errs <- err
				return
			}
			out[i] = Account{Email: email, Access: t.AccessToken, Refresh: t.RefreshToken}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return out, nil
}

var client = load.NewClient(30*time.Second, 256)

var ipCounter struct {
	sync.Mutex
	n uint32
}

// ClientIP returns a new client address for X-Forwarded-For, so each
// request looks like a different phone behind the trusted proxy.
func ClientIP() string {
	ipCounter.Lock()
	ipCounter.n++
	n := ipCounter.n
	ipCounter.Unlock()
	return fmt.Sprintf("10.%d.%d.%d", (n>>16)&255, (n>>8)&255, n&255)
}

// PostJSON posts body as JSON from a fresh client address and decodes a
// 2xx answer into out (when not nil).
func PostJSON(url string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ClientIP())
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
