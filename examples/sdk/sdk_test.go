package sdk

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryModuleIsEmbedded keeps the embed list and the folder in step:
// every SDK module on disk is served, and every relative import of a
// served module resolves to a served one.
func TestEveryModuleIsEmbedded(t *testing.T) {
	onDisk, err := filepath.Glob("*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range onDisk {
		if _, err := fs.Stat(Files, name); err != nil {
			t.Errorf("%s is in the folder but not embedded: add it to the go:embed line in sdk.go", name)
		}
	}
	imports := regexp.MustCompile(`from "\./([^"]+)"`)
	fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(Files, path)
		for _, m := range imports.FindAllStringSubmatch(string(b), -1) {
			if _, err := fs.Stat(Files, m[1]); err != nil {
				t.Errorf("%s imports ./%s, which is not embedded", path, m[1])
			}
		}
		return nil
	})
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix(Prefix, Handler()))
	defer srv.Close()
	want, err := os.ReadFile("tickwire.js")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path        string
		status      int
		contentType string
		body        string
	}{
		{"/sdk/tickwire.js", 200, "text/javascript", string(want)},
		{"/sdk/msgpack.js", 200, "text/javascript", ""},
		{"/sdk/", 404, "", ""},
		{"/sdk/nope.js", 404, "", ""},
		{"/sdk/msgpack.test.mjs", 404, "", ""}, // tests are not served
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: %s, want %d", tt.path, resp.Status, tt.status)
			continue
		}
		if tt.status != 200 {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tt.path, ct, tt.contentType)
		}
		if resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", tt.path, resp.Header.Get("Cache-Control"))
		}
		if tt.body != "" && string(b) != tt.body {
			t.Errorf("GET %s: body differs from the file", tt.path)
		}
	}
}
