package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	if code := run([]string{"--header", "x", "http://127.0.0.1:1/"}, &out, &errs); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
	if code := run([]string{"http://127.0.0.1:1/", "--post-data"}, &out, &errs); code != 2 {
		t.Fatalf("--post-data without data: exit %d, want 2", code)
	}
}

func TestPostDataSendsAPost(t *testing.T) {
	var got []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body))
		if r.Method != http.MethodPost {
			http.Error(w, "Only POST or PUT requests allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Write([]byte("reloaded"))
	}))
	defer server.Close()
	var out, errs bytes.Buffer
	for _, args := range [][]string{
		{"-q", "-O", "-", "--post-data=", server.URL + "/-/reload"},
		{"-q", "-O", "-", "--post-data", "a=1", server.URL + "/-/reload"},
	} {
		out.Reset()
		if code := run(args, &out, &errs); code != 0 || out.String() != "reloaded" {
			t.Fatalf("%v: exit %d, body %q, %s", args, code, out.String(), errs.String())
		}
	}
	if code := run([]string{"-q", "-O", "-", server.URL + "/-/reload"}, &out, &errs); code != 1 {
		t.Fatalf("a GET of a POST-only path: exit %d, want 1", code)
	}
	want := []string{
		"POST /-/reload application/x-www-form-urlencoded ",
		"POST /-/reload application/x-www-form-urlencoded a=1",
		"GET /-/reload  ",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("requests %q, want %q", got, want)
	}
}
