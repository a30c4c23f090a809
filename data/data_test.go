package data_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"testing"
	"testing/fstest"

	"movierec/data"
)

func TestMLLatestSmall(t *testing.T) {
	fsys := data.MLLatestSmall()
	if err := fstest.TestFS(fsys, "ratings.csv", "movies.csv", "README.txt"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		size int
		sum  string
	}{
		{"README.txt", 8342, "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404"},
		{"movies.csv", 494431, "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07"},
		{"ratings.csv", 2483723, "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := fs.ReadFile(fsys, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if len(b) != tc.size || hex.EncodeToString(sum[:]) != tc.sum {
				t.Errorf("%s: %d bytes, sha256 %x; want %d bytes, sha256 %s", tc.name, len(b), sum, tc.size, tc.sum)
			}
		})
	}
	if _, err := fs.Stat(fsys, "tags.csv"); err == nil {
		t.Errorf("Stat(tags.csv) succeeded, want it not embedded")
	}
}
