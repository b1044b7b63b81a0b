// Command wget is the one HTTP client the locally built images carry, for their healthchecks and for asking a
// server to reload: the program runs `wget -q --spider http://127.0.0.1:<port><path>` in every container, and
// `wget -q -O - --post-data= http://127.0.0.1:<port>/-/reload` in Prometheus' and Alertmanager's
// (stacks/reload.py), as it would in the upstream images (whose busybox has wget). Busybox itself is GPL and stays
// out of this project's images, so this covers exactly the forms used:
// `wget [-q] [--spider] [-O FILE|-] [--post-data=DATA|--post-data DATA] URL` (with --post-data, a POST of DATA
// as application/x-www-form-urlencoded, as busybox sends it).
// Exit status 0 when the server answers 2xx (and the body, unless --spider, was written), 1 otherwise.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const usage = "wget [-q] [--spider] [-O FILE|-] [--post-data=DATA] URL"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	quiet, spider, output, url := false, false, "", ""
	var postData *string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if data, ok := strings.CutPrefix(arg, "--post-data="); ok {
			postData = &data
			continue
		}
		switch arg {
		case "-q":
			quiet = true
		case "--spider":
			spider = true
		case "--post-data":
			if i+1 == len(args) {
				fmt.Fprintln(stderr, "wget: --post-data needs the data")
				return 2
			}
			i++
			postData = &args[i]
		case "-O":
			if i+1 == len(args) {
				fmt.Fprintln(stderr, "wget: -O needs a file name")
				return 2
			}
			i++
			output = args[i]
		default:
			if url != "" || len(arg) > 0 && arg[0] == '-' {
				fmt.Fprintf(stderr, "wget: unsupported argument %q (usage: %s)\n", arg, usage)
				return 2
			}
			url = arg
		}
	}
	if url == "" {
		fmt.Fprintln(stderr, "usage: "+usage)
		return 2
	}
	client := &http.Client{Timeout: 120 * time.Second} // a reload of thousands of rules answers when done
	var response *http.Response
	var err error
	if postData != nil {
		response, err = client.Post(url, "application/x-www-form-urlencoded", strings.NewReader(*postData))
	} else {
		response, err = client.Get(url)
	}
	if err != nil {
		if !quiet {
			fmt.Fprintf(stderr, "wget: %v\n", err)
		}
		return 1
	}
	defer response.Body.Close()
	if response.StatusCode < 200 || response.StatusCode > 299 {
		if !quiet {
			fmt.Fprintf(stderr, "wget: server returned %s\n", response.Status)
		}
		return 1
	}
	if spider {
		return 0
	}
	var sink io.Writer = stdout
	if output != "" && output != "-" {
		file, err := os.Create(output)
		if err != nil {
			fmt.Fprintf(stderr, "wget: %v\n", err)
			return 1
		}
		defer file.Close()
		sink = file
	}
	if _, err := io.Copy(sink, response.Body); err != nil {
		fmt.Fprintf(stderr, "wget: %v\n", err)
		return 1
	}
	return 0
}
