// Command movierec trains ALS recommenders on MovieLens ratings and serves
// them over HTTP.
//
//	movierec serve   run the HTTP service (bundled ml-latest-small by default)
//	movierec import  import a MovieLens data set into the database
//	movierec train   train offline and store the model
//	movierec eval    train on a split; compare the ranking model, the rating model and baselines
//	movierec tune    pick the ranking model's rank, λ, α (and iterations) by validation NDCG@10
//	movierec gen     write a synthetic MovieLens-shaped data set
//
// Run "movierec <command> -h" for a command's flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

// version is set with -ldflags "-X main.version=..." and passed down as a
// value.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "eval":
		err = runEval(ctx, args[1:], stdout, stderr)
	case "import":
		err = runImport(ctx, args[1:], stdout, stderr)
	case "train":
		err = runTrain(ctx, args[1:], stdout, stderr)
	case "trainer":
		err = runTrainer(ctx, args[1:], stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "gen":
		err = runGen(ctx, args[1:], stdout, stderr)
	case "tune":
		err = runTune(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		err = runHealthcheck(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionLine(version))
	case "-h", "-help", "--help", "help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "movierec: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err == errUsage {
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "movierec:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: movierec <command> [flags]

commands:
  serve    serve recommendations over HTTP (default data: bundled ml-latest-small)
  import   import a MovieLens data set into the database (idempotent)
  train    train on the database offline and store the model
  trainer  the training role beside API replicas on PostgreSQL: follows writes, trains
           while it holds the trainer lock, publishes models (no API; /healthz,
           /readyz, /metrics only)
  eval     train on a split; compare the ranking model, the rating model and baselines
  tune     pick the ranking model's rank, λ, α (and iterations) by validation NDCG@10 (--model explicit: RMSE)
  bench    generate or read a data set and measure load, training, RMSE, top-N latency
           (bench --http: load-test a running server)
  gen      write a synthetic MovieLens-shaped data set (presets ml-25m, netflix)
  healthcheck  exit 0 when a server answers 200 on /healthz (for container HEALTHCHECKs)
  version  print the version and VCS revision (also --version)

Run "movierec <command> -h" for the flags of a command. Every flag can also
be set in the environment as MOVIEREC_<FLAG> (upper case, - as _), e.g.
MOVIEREC_RETRAIN_INTERVAL=1m; a flag on the command line wins.
`)
}

// buildInfo is what the binary knows about its own build.
type buildInfo struct {
	Version   string // -ldflags version, else the module version ("(devel)" when unknown)
	Revision  string // VCS revision, "unknown" when not built from a checkout
	Modified  bool   // the checkout had uncommitted changes
	GoVersion string
}

// readBuildInfo reads the version from -ldflags (ldVersion, unless "dev")
// or else the module version, and the VCS revision, from
// debug.ReadBuildInfo.
func readBuildInfo(ldVersion string) buildInfo {
	b := buildInfo{Version: ldVersion, Revision: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = bi.GoVersion
	if ldVersion == "dev" && bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// versionLine is what `movierec version` prints.
func versionLine(ldVersion string) string {
	b := readBuildInfo(ldVersion)
	rev := b.Revision
	if b.Modified {
		rev += " (modified)"
	}
	return fmt.Sprintf("movierec %s revision %s %s", b.Version, rev, b.GoVersion)
}

// runHealthcheck asks a running server's /healthz and fails unless it
// answers 200: the container image's HEALTHCHECK, which has no curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "URL to GET")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s = %d", *url, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
