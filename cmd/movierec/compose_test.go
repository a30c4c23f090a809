package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"movierec/store/postgres/pgtest"
)

// deploy/compose.yaml cannot be run here (no Docker engine), so these
// tests check what of it is ours: TestComposeFile reads it against the
// Dockerfile and the CLI, and TestComposeTopology runs its services as
// processes of the test binary's movierec, with their commands and
// environments as written (the CPU override applied), on a throw-away
// PostgreSQL. What they cannot check is Docker's part: the image build,
// the network between containers, the GPU reservation.

// composeFile is the part of a Compose file the tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       map[string]string `yaml:"build"`
	Environment map[string]string `yaml:"environment"`
	Command     []string          `yaml:"command"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Ports  []string `yaml:"ports"`
	Deploy ast.Node `yaml:"deploy"` // a mapping, or the override's !reset
}

// readCompose reads deploy/compose.yaml with deploy/compose.cpu.yaml's
// overrides (environments merged, deploy reset) applied when cpu is set.
func readCompose(t *testing.T, cpu bool) composeFile {
	t.Helper()
	var c composeFile
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	if !cpu {
		return c
	}
	var o composeFile
	if b, err = os.ReadFile(filepath.Join("..", "..", "deploy", "compose.cpu.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &o); err != nil {
		t.Fatalf("deploy/compose.cpu.yaml: %v", err)
	}
	for name, ov := range o.Services {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("compose.cpu.yaml overrides %s, which compose.yaml lacks", name)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = v
		}
		for k, v := range ov.Environment {
			env[k] = v
		}
		s.Environment = env
		if tn, ok := ov.Deploy.(*ast.TagNode); ok && tn.Start.Value == "!reset" {
			s.Deploy = nil
		} else if ov.Deploy != nil {
			t.Fatalf("compose.cpu.yaml: %s's deploy is %v, want !reset", name, ov.Deploy)
		}
		c.Services[name] = s
	}
	return c
}

// movierecServices returns the names of the services that run the
// movierec image, sorted.
func (c composeFile) movierecServices() []string {
	var names []string
	for name, s := range c.Services {
		if s.Image == "movierec-cuda" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestComposeFile checks deploy/compose.yaml against the Dockerfile it
// builds and the command line: the roles the README describes, one
// database URL matching the postgres service, the start order, ports that
// reach the address each process listens on, and a GPU for the trainer
// that the CPU override takes away.
func TestComposeFile(t *testing.T) {
	c := readCompose(t, false)
	if got := c.movierecServices(); !slices.Equal(got, []string{"api-1", "api-2", "import", "trainer"}) {
		t.Fatalf("movierec services %v, want api-1, api-2, import, trainer", got)
	}
	pg := c.Services["postgres"]
	wantDB := "postgres://" + pg.Environment["POSTGRES_USER"] + ":" + pg.Environment["POSTGRES_PASSWORD"] +
		"@postgres:5432/" + pg.Environment["POSTGRES_DB"]
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile.cuda"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(dockerfile)
	final := df[strings.LastIndex(df, "\nFROM "):]
	if !strings.Contains(final, `ENTRYPOINT ["/usr/local/bin/movierec"]`) ||
		!regexp.MustCompile(`COPY --from=build [^\n]*/out/movierec-cuda[^\n]* /usr/local/bin/`).MatchString(final) {
		t.Fatalf("Dockerfile.cuda's final stage: want movierec as the entrypoint and the worker in /usr/local/bin")
	}
	for _, name := range c.movierecServices() {
		s := c.Services[name]
		if s.Build["dockerfile"] != "Dockerfile.cuda" || s.Build["context"] != ".." {
			t.Errorf("%s: build %v, want Dockerfile.cuda from the repository root", name, s.Build)
		}
		if s.Environment["MOVIEREC_DB"] != wantDB {
			t.Errorf("%s: MOVIEREC_DB %q, want the postgres service's %q", name, s.Environment["MOVIEREC_DB"], wantDB)
		}
		if s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Errorf("%s: does not wait for postgres to be healthy", name)
		}
		if name != "import" && s.DependsOn["import"].Condition != "service_completed_successfully" {
			t.Errorf("%s: does not wait for the import to complete", name)
		}
		if w, ok := s.Environment["MOVIEREC_CUDA_WORKER"]; ok && w != "/usr/local/bin/movierec-cuda" {
			t.Errorf("%s: MOVIEREC_CUDA_WORKER %q is not where the image has the worker", name, w)
		}
		if len(s.Command) == 0 {
			t.Fatalf("%s: no command", name)
		}
		for _, p := range s.Ports {
			if !strings.HasSuffix(p, ":8080") || !slices.Contains(s.Command, "0.0.0.0:8080") {
				t.Errorf("%s: port %s does not reach the process's --addr in %v", name, p, s.Command)
			}
		}
	}
	for _, name := range []string{"api-1", "api-2"} {
		if s := c.Services[name]; s.Command[0] != "serve" || s.Environment["MOVIEREC_TRAIN"] != "false" {
			t.Errorf("%s: %v with MOVIEREC_TRAIN %q, want an API replica that never trains", name, s.Command, s.Environment["MOVIEREC_TRAIN"])
		}
	}
	if s := c.Services["trainer"]; s.Command[0] != "trainer" || s.Deploy == nil || !strings.Contains(s.Deploy.String(), "gpu") {
		t.Errorf("trainer: %v, deploy %v; want the trainer role with a GPU requested", s.Command, s.Deploy)
	}
	cpu := readCompose(t, true).Services["trainer"]
	if cpu.Deploy != nil || cpu.Environment["MOVIEREC_BACKEND"] != "cpu" || cpu.Environment["MOVIEREC_DB"] != wantDB {
		t.Errorf("trainer with compose.cpu.yaml: deploy %v, environment %v; want no device request and the CPU backend", cpu.Deploy, cpu.Environment)
	}
}

// TestComposeTopology runs the services of compose.yaml with the CPU
// override as processes: the import to completion first, then the two API
// replicas and the trainer with their commands and environments as
// written, the database URL pointed at a throw-away cluster and the
// listen address at a free port. The replicas get ready on the trainer's
// model, a rating posted to one reaches the other, the trainer answers
// only its probes, and the image's HEALTHCHECK command passes on each.
func TestComposeTopology(t *testing.T) {
	c := readCompose(t, true)
	cluster := pgtest.NewCluster(t)
	dbURL, err := cluster.CreateDB(t.Context(), "movierec")
	if err != nil {
		t.Fatal(err)
	}
	bin := movierecBinary(t)
	command := func(name string) *exec.Cmd {
		s := c.Services[name]
		args := slices.Clone(s.Command)
		for i, a := range args {
			if a == "0.0.0.0:8080" {
				args[i] = "127.0.0.1:0"
			}
		}
		cmd := exec.Command(bin, args...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "MOVIEREC_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		for k, v := range s.Environment {
			if k == "MOVIEREC_DB" {
				u, err := url.Parse(v)
				if err != nil || u.Host != "postgres:5432" {
					t.Fatalf("%s: MOVIEREC_DB %q", name, v)
				}
				v = dbURL
			}
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd
	}
	if out, err := command("import").CombinedOutput(); err != nil {
		t.Fatalf("import service: %v\n%s", err, out)
	}
	trainer := startCmd(t, "trainer", command("trainer"), false)
	api1 := startCmd(t, "api-1", command("api-1"), false)
	api2 := startCmd(t, "api-2", command("api-2"), false)
	for _, r := range []*role{api1, api2, trainer} {
		r.waitReady(t, 180*time.Second)
	}
	if trainer.logged("trainer lock taken: this process trains") == 0 || api1.logged("trainer lock taken: this process trains") > 0 {
		t.Error("the trainer service did not train, or a replica did")
	}
	if code, _ := httpGet(trainer.base + "/1/ratings/top/10"); code != http.StatusNotFound {
		t.Errorf("trainer: GET /1/ratings/top/10 = %d, want 404 (probes only)", code)
	}
	if code, _ := httpGet(trainer.base + "/metrics"); code != http.StatusOK {
		t.Errorf("trainer: GET /metrics = %d, want 200", code)
	}
	for _, r := range []*role{api1, api2, trainer} {
		if out, err := exec.Command(bin, "healthcheck", "--url", r.base+"/healthz").CombinedOutput(); err != nil {
			t.Errorf("%s: the image's HEALTHCHECK command: %v\n%s", r.name, err, out)
		}
	}
	if code, body := post(t, api1.base+"/api/v1/users/900003/ratings", "application/json", `[{"movie_id": 1, "rating": 4.5}]`); code != http.StatusOK {
		t.Fatalf("POST to api-1: %d %s", code, body)
	}
	waitUntil(t, 10*time.Second, "api-2 to serve api-1's rating", func() bool {
		code, body := httpGet(api2.base + "/api/v1/users/900003/ratings")
		return code == http.StatusOK && strings.Contains(body, `"rating":4.5`)
	})
}
