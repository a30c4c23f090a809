package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMGraceful sends SIGTERM while POSTs are in flight: the process
// must exit 0, and every POST it acknowledged must be in the database.
func TestSIGTERMGraceful(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	db := filepath.Join(dir, "m.db")
	cmd, base := startProcess(t, bin, db)

	acked := make(chan int, 100000)
	enough := make(chan struct{}) // closed at the 20th acknowledged POST
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			movie := []int{1, 2, 3, 5, 6, 7, 10, 11, 16, 25}[i%10]
			resp, err := http.Post(fmt.Sprintf("%s/%d/ratings", base, 800000+i), "text/plain", strings.NewReader(fmt.Sprintf("%d,4\n", movie)))
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				acked <- 800000 + i
				if len(acked) == 20 {
					close(enough)
				}
			}
		}
	}()
	// Signal once POSTs are being acknowledged, so some are in flight.
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("fewer than 20 POSTs acknowledged within 60 s")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("after SIGTERM the process exited with %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the process did not exit within 20 s of SIGTERM")
	}
	<-done
	close(acked)
	var users []int
	for u := range acked {
		users = append(users, u)
	}
	if len(users) == 0 {
		t.Fatal("no POST was acknowledged before SIGTERM")
	}
	_, base = startProcess(t, bin, db)
	for _, u := range users {
		status, body := get(t, fmt.Sprintf("%s/api/v1/users/%d/ratings", base, u))
		if status != 200 || !strings.Contains(body, `"rating":4`) {
			t.Errorf("user %d: acknowledged rating missing after a graceful stop: %d %s", u, status, body)
		}
	}
}
