package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"movierec/engine"
)

// crashChildEnv names the database a re-executed test binary writes to
// until it is killed (TestSnapshotLogSurvivesSIGKILL).
const crashChildEnv = "MOVIEREC_SQLITE_CRASH_CHILD"

// TestSnapshotLogSurvivesSIGKILL kills a process that writes and deletes
// ratings one at a time on a database with a ratings snapshot, so that
// every write also goes to the change log, and checks the start after it:
// the ratings come from the snapshot and the log, equal to the rows, with
// every acknowledged write in them and the one in flight either whole or
// absent.
func TestSnapshotLogSurvivesSIGKILL(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	defer func(ms, ch int) { minSnapshot, snapshotChunk = ms, ch }(minSnapshot, snapshotChunk)
	minSnapshot, snapshotChunk = 100, 64
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := t.Context()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	movies := make([]engine.Movie, 20)
	for i := range movies {
		movies[i] = engine.Movie{ID: int32(i + 1), Title: "m"}
	}
	var rs []engine.Rating
	for u := range int32(100) {
		for m := int32(1); m <= 1+u%5; m++ {
			rs = append(rs, engine.Rating{User: u, Movie: m, Value: 3, Time: 1})
		}
	}
	if _, err := db.Import(ctx, movies, rs, engine.MovieLensScale, nil); err != nil { // writes the snapshot
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestSnapshotLogSurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child prints "try OP" before each write and "ack" after it.
	type key struct{ u, m int32 }
	want := map[key]float32{}
	for _, r := range rs {
		want[key{r.User, r.Movie}] = r.Value
	}
	apply := func(m map[key]float32, op string) {
		f := strings.Fields(op)
		u, _ := strconv.Atoi(f[1])
		mv, _ := strconv.Atoi(f[2])
		if f[0] == "del" {
			delete(m, key{int32(u), int32(mv)})
			return
		}
		v, _ := strconv.ParseFloat(f[3], 32)
		m[key{int32(u), int32(mv)}] = float32(v)
	}
	sc := bufio.NewScanner(out)
	var inflight string
	acks := 0
	read := func(line string) {
		switch {
		case strings.HasPrefix(line, "try "):
			inflight = strings.TrimPrefix(line, "try ")
		case line == "ack":
			apply(want, inflight)
			inflight = ""
			acks++
		}
	}
	for acks < 300 && sc.Scan() {
		read(sc.Text())
	}
	if acks < 300 {
		t.Fatalf("the writer stopped after %d acknowledged writes", acks)
	}
	_ = cmd.Process.Kill()
	for sc.Scan() { // what it printed before the kill, up to the pipe's end
		read(sc.Text())
	}
	_ = cmd.Wait() // after the reads: Wait closes the pipe

	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logged int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM ratings_changes").Scan(&logged); err != nil {
		t.Fatal(err)
	}
	got, _, changes, err := db.readSnapshot(ctx)
	if err != nil {
		t.Fatalf("the snapshot and its log are not usable after the kill: %v", err)
	}
	if logged == 0 || changes != logged {
		t.Fatalf("the read applied %d of %d logged changes", changes, logged)
	}
	rows, _, err := db.readRatings(ctx, false, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rows, got); diff != "" {
		t.Fatalf("snapshot and log (%d changes) differ from the rows:\n%s", changes, diff)
	}
	gotMap := map[key]float32{}
	for _, r := range got {
		gotMap[key{r.User, r.Movie}] = r.Value
	}
	withInflight := map[key]float32{}
	for k, v := range want {
		withInflight[k] = v
	}
	if inflight != "" {
		apply(withInflight, inflight)
	}
	if !cmp.Equal(gotMap, want) && !cmp.Equal(gotMap, withInflight) {
		t.Fatalf("after the kill the ratings are not the acknowledged ones (in flight: %q):\n%s", inflight, cmp.Diff(want, gotMap))
	}
}

// crashChild writes and deletes single ratings on the database at path,
// announcing each ("try …") and acknowledging it ("ack") on stdout, until
// it is killed.
func crashChild(path string) {
	dropShare = 1e9 // keep logging, however long the log gets
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	w := bufio.NewWriter(os.Stdout)
	for {
		u, m := int32(rng.IntN(150)), int32(1+rng.IntN(20))
		if rng.IntN(4) == 0 {
			fmt.Fprintf(w, "try del %d %d\n", u, m)
			w.Flush()
			if err := db.DeleteRating(ctx, u, m); err != nil && !errors.Is(err, engine.ErrNotRated) {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		} else {
			v := float32(1+rng.IntN(10)) / 2
			fmt.Fprintf(w, "try set %d %d %g\n", u, m, v)
			w.Flush()
			if err := db.AddRatings(ctx, []engine.Rating{{User: u, Movie: m, Value: v, Time: 2}}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		fmt.Fprintln(w, "ack")
		w.Flush()
	}
}
