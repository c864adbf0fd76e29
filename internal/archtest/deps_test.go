package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "mitra"

var domains = []string{"auth", "ai", "persona", "insurance", "console"}

type pkg struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	cmd.Dir = "../.."
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errOut.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(&out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// layer names the architectural layer of a package of this module.
func layer(path string) (name, domain string) {
	rel := strings.TrimPrefix(path, module+"/")
	switch {
	case strings.HasPrefix(rel, "cmd/"):
		return "cmd", ""
	case strings.HasPrefix(rel, "bench/"):
		// Benchmarks start the real server in-process, as cmd does.
		return "bench", ""
	case rel == "internal/server" || strings.HasPrefix(rel, "internal/server/"):
		return "server", ""
	case strings.HasPrefix(rel, "internal/platform/"):
		return "platform", ""
	}
	for _, d := range domains {
		base := "internal/" + d
		if rel == base {
			return "domain", d
		}
		if strings.HasPrefix(rel, base+"/") {
			return "domain-sub", d
		}
	}
	return "other", ""
}

func TestDependencyDirection(t *testing.T) {
	for _, p := range listPackages(t) {
		from, fromDomain := layer(p.ImportPath)
		for _, dep := range p.Deps {
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			to, toDomain := layer(dep)
			var bad string
			switch {
			case to == "cmd":
				bad = "nothing imports cmd"
			case to == "server" && from != "cmd" && from != "server" && from != "bench":
				bad = "only cmd (and benchmarks) import server"
			case to == "bench" && from != "bench":
				bad = "nothing but benchmarks imports bench"
			case from == "platform" && (to == "domain" || to == "domain-sub" || to == "server"):
				bad = "platform imports no domain and no server"
			case (from == "domain" || from == "domain-sub") && (to == "domain" || to == "domain-sub") && fromDomain != toDomain:
				bad = "a domain does not import another domain; declare an interface instead"
			case from == "domain-sub" && to == "domain" && fromDomain == toDomain && !strings.HasSuffix(p.ImportPath, "test"):
				// (a domain's test helpers, like auth/authtest, build the domain)
				bad = "a domain's service clients are imported by the domain, never the reverse"
			}
			if bad != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, dep, bad)
			}
		}
	}
}

// The rule engine itself must notice a violation.
func TestLayerNames(t *testing.T) {
	cases := map[string]string{
		"mitra/cmd/mitra":                         "cmd",
		"mitra/internal/server":                   "server",
		"mitra/internal/platform/httpx":           "platform",
		"mitra/internal/auth":                     "domain",
		"mitra/internal/insurance/razorpay":       "domain-sub",
		"mitra/internal/platform/database/dbtest": "platform",
		"mitra/bench/cmd/baseline":                "bench",
	}
	for path, want := range cases {
		if got, _ := layer(path); got != want {
			t.Errorf("layer(%s) = %s, want %s", path, got, want)
		}
	}
}
