package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSpiderSucceedsOnlyOn2xx(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/-/ready" {
			w.Write([]byte("ready"))
			return
		}
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}))
	defer server.Close()
	var out, errs bytes.Buffer
	if code := run([]string{"-q", "--spider", server.URL + "/-/ready"}, &out, &errs); code != 0 {
		t.Fatalf("ready: exit %d, %s", code, errs.String())
	}
	if out.Len() != 0 {
		t.Fatalf("--spider wrote %q", out.String())
	}
	if code := run([]string{"-q", "--spider", server.URL + "/other"}, &out, &errs); code != 1 {
		t.Fatalf("503: exit %d, want 1", code)
	}
	if code := run([]string{"-q", "-O", "-", server.URL + "/-/ready"}, &out, &errs); code != 0 || out.String() != "ready" {
		t.Fatalf("-O -: exit %d, body %q", code, out.String())
	}
}

func TestUnreachableAndBadArguments(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-q", "--spider", "http://127.0.0.1:1/"}, &out, &errs); code != 1 {
		t.Fatalf("refused: exit %d, want 1", code)
	}
	if code := run([]string{"--post-data", "x", "http://127.0.0.1:1/"}, &out, &errs); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
}
