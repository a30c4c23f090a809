package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles movierec into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "movierec")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs `movierec serve` on port 0 and returns its base URL once
// it is ready.
func startProcess(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" && !sent {
				addr <- l.Addr
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	var base string
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("server exited before serving")
		}
		base = a
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start in 60 s")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, base
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSIGKILLLosesNoAcknowledgedRating posts from many goroutines, kills the
// server with SIGKILL mid-stream, restarts it on the same database, and
// checks that every acknowledged rating is there and no rejected one is.
func TestSIGKILLLosesNoAcknowledgedRating(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	db := filepath.Join(dir, "m.db")
	cmd, base := startProcess(t, bin, db)

	// Movies with ids 1..200 that exist in ml-latest-small.
	movies := []int{1, 2, 3, 5, 6, 7, 10, 11, 16, 25, 32, 34, 36, 47, 50, 52, 58, 62, 70, 110}
	const writers = 8
	type ack struct {
		user, movie int
		value       float64
	}
	var (
		mu       sync.Mutex
		acked    []ack
		rejected []ack
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := 900000 + w
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				movie := movies[i%len(movies)] + 1000*(i/len(movies)) // unique per request
				if movie > 1000 {
					return // ran out of distinct known movies
				}
				value := float64(1+(i+w)%9) / 2
				bad := i%5 == 4
				body := fmt.Sprintf("%d,%g\n", movie, value)
				if bad {
					body = fmt.Sprintf("%d,%g\n%d,7\n", movie, value, movies[(i+1)%len(movies)])
				}
				resp, err := client.Post(fmt.Sprintf("%s/%d/ratings", base, user), "text/plain", strings.NewReader(body))
				if err != nil {
					return // the server is gone: this request's outcome is unknown
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				switch {
				case resp.StatusCode == 200:
					acked = append(acked, ack{user, movie, value})
				case resp.StatusCode == 400 && bad:
					rejected = append(rejected, ack{user, movie, value})
				default:
					t.Errorf("POST %s = %d", body, resp.StatusCode)
				}
				mu.Unlock()
			}
		}()
	}
	// Kill at an arbitrary moment once some writes are acknowledged.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Duration(time.Now().UnixNano()%50) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	wg.Wait()
	if len(rejected) == 0 {
		t.Fatal("no rejected POST before the kill; the test proves nothing about rejects")
	}

	_, base = startProcess(t, bin, db)
	stored := map[[2]int]float64{}
	for w := range writers {
		resp, err := http.Get(fmt.Sprintf("%s/api/v1/users/%d/ratings", base, 900000+w))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Ratings []struct {
				MovieID int     `json:"movie_id"`
				Rating  float64 `json:"rating"`
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, r := range body.Ratings {
			stored[[2]int{900000 + w, r.MovieID}] = r.Rating
		}
	}
	for _, a := range acked {
		if v, ok := stored[[2]int{a.user, a.movie}]; !ok || v != a.value {
			t.Errorf("acknowledged rating user %d movie %d = %v lost after SIGKILL (found %v, %t)", a.user, a.movie, a.value, v, ok)
		}
	}
	for _, r := range rejected {
		if _, ok := stored[[2]int{r.user, r.movie}]; ok {
			t.Errorf("rejected POST user %d movie %d was stored", r.user, r.movie)
		}
	}
	t.Logf("%d acknowledged, %d rejected before SIGKILL; all acknowledged found after restart", len(acked), len(rejected))
	_ = os.Remove(db)
}
