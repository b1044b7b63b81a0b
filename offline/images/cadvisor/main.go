// Command cadvisor is cAdvisor for the local test image (offline/images/build.sh): the release's library
// (github.com/google/cadvisor/lib: manager, metrics, the containerd, CRI-O and systemd handlers) and its
// root module (github.com/google/cadvisor: the Docker and Podman handlers), at the version
// stacks/versions.py pins, behind cAdvisor's Prometheus endpoint. Upstream's main is in the module
// github.com/google/cadvisor/cmd, which the Go module proxy does not serve (its go.mod replaces the library
// with ../ and is built from a clone; no cmd/v* tag exists). This main keeps upstream's flags and defaults
// for what a stack uses, /metrics (and /healthz for the healthcheck), and leaves out the web UI, the REST
// API and the storage drivers.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/cadvisor/lib/cache/memory"
	"github.com/google/cadvisor/lib/container"
	"github.com/google/cadvisor/lib/manager"
	"github.com/google/cadvisor/lib/metrics"
	info "github.com/google/cadvisor/lib/model"
	"github.com/google/cadvisor/lib/utils/sysfs"
	"github.com/google/cadvisor/lib/version"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	// Container runtimes, as upstream's main registers them.
	_ "github.com/google/cadvisor/container/docker/install"
	_ "github.com/google/cadvisor/container/podman/install"
	_ "github.com/google/cadvisor/lib/container/containerd/install"
	_ "github.com/google/cadvisor/lib/container/crio/install"
	_ "github.com/google/cadvisor/lib/container/systemd/install"

	// Filesystems whose usage cAdvisor reports.
	_ "github.com/google/cadvisor/lib/fs/btrfs/install"
	_ "github.com/google/cadvisor/lib/fs/nfs/install"
	_ "github.com/google/cadvisor/lib/fs/overlay/install"
	_ "github.com/google/cadvisor/lib/fs/tmpfs/install"
	_ "github.com/google/cadvisor/lib/fs/vfs/install"
	_ "github.com/google/cadvisor/lib/fs/zfs/install"
)

var (
	listenIP           = flag.String("listen_ip", "", "IP to listen on, defaults to all IPs")
	port               = flag.Int("port", 8080, "port to listen")
	versionFlag        = flag.Bool("version", false, "print cAdvisor version and exit")
	prometheusEndpoint = flag.String("prometheus_endpoint", "/metrics", "Endpoint to expose Prometheus metrics on")
	storageDuration    = flag.Duration("storage_duration", 2*time.Minute, "How long to keep data stored")
	storeLabels        = flag.Bool("store_container_labels", true, "convert container labels and environment variables into labels on prometheus metrics for each container")
	whitelistedLabels  = flag.String("whitelisted_container_labels", "", "comma separated list of container labels to be converted to labels on prometheus metrics for each container (store_container_labels=false)")
	envWhitelist       = flag.String("env_metadata_whitelist", "", "a comma-separated list of environment variable keys matched with specified prefix that needs to be collected for containers")
	rawCgroupPrefixes  = flag.String("raw_cgroup_prefix_whitelist", "", "A comma-separated list of cgroup path prefix that needs to be collected even when -docker_only is specified")
	perfEvents         = flag.String("perf_events_config", "", "Path to a JSON file containing configuration of perf events to measure")
	resctrlInterval    = flag.Duration("resctrl_interval", 0, "Resctrl mon groups updating interval. Zero value disables updating mon groups.")

	// Upstream's defaults: these are off unless asked for.
	ignoreMetrics = container.MetricSet{
		container.MemoryNumaMetrics:              struct{}{},
		container.NetworkTcpUsageMetrics:         struct{}{},
		container.NetworkUdpUsageMetrics:         struct{}{},
		container.NetworkAdvancedTcpUsageMetrics: struct{}{},
		container.ProcessSchedulerMetrics:        struct{}{},
		container.ProcessMetrics:                 struct{}{},
		container.HugetlbUsageMetrics:            struct{}{},
		container.ReferencedMemoryMetrics:        struct{}{},
		container.CPUTopologyMetrics:             struct{}{},
		container.ResctrlMetrics:                 struct{}{},
		container.CPUSetMetrics:                  struct{}{},
	}
	enableMetrics = container.MetricSet{}
)

func main() {
	optstr := container.AllMetrics.String()
	flag.Var(&ignoreMetrics, "disable_metrics", fmt.Sprintf("comma-separated list of `metrics` to be disabled. Options are %s.", optstr))
	flag.Var(&enableMetrics, "enable_metrics", fmt.Sprintf("comma-separated list of `metrics` to be enabled. If set, overrides 'disable_metrics'. Options are %s.", optstr))
	klog.InitFlags(nil)
	_ = flag.Set("v", "2")
	flag.Parse()
	defer klog.Flush()
	if *versionFlag {
		fmt.Printf("cAdvisor version %s (%s)\n", version.Info["version"], version.Info["revision"])
		os.Exit(0)
	}
	included := container.AllMetrics.Difference(ignoreMetrics)
	if len(enableMetrics) > 0 {
		included = enableMetrics
	}

	m, err := manager.New(memory.New(*storageDuration, nil), sysfs.NewRealSysFs(), manager.HousekeepingConfigFlags,
		included, strings.Split(*rawCgroupPrefixes, ","), strings.Split(*envWhitelist, ","), *perfEvents, *resctrlInterval)
	if err != nil {
		klog.Fatalf("Failed to create a manager: %s", err)
	}
	labels := metrics.DefaultContainerLabels
	if !*storeLabels {
		labels = metrics.BaseContainerLabels(strings.Split(*whitelistedLabels, ","))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	machine := metrics.NewPrometheusMachineCollector(m, included)
	goCollector := collectors.NewGoCollector()
	processCollector := collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})
	mux.HandleFunc(*prometheusEndpoint, func(w http.ResponseWriter, req *http.Request) {
		// The latest sample of every container, as upstream's handler asks (type=name|docker).
		opts := info.RequestOptions{IdType: info.TypeName, Count: 1, Recursive: true}
		if t := req.URL.Query().Get("type"); t != "" {
			opts.IdType = t
		}
		r := prometheus.NewRegistry()
		r.MustRegister(metrics.NewPrometheusCollector(m, labels, included, clock.RealClock{}, opts), machine, goCollector, processCollector)
		promhttp.HandlerFor(r, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, req)
	})

	if err := m.Start(); err != nil {
		klog.Fatalf("Failed to start manager: %v", err)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		if err := m.Stop(); err != nil {
			klog.Errorf("Failed to stop container manager: %v", err)
		}
		klog.Infof("Exiting given signal: %v", sig)
		os.Exit(0)
	}()
	klog.V(1).Infof("Starting cAdvisor version: %s-%s on port %d", version.Info["version"], version.Info["revision"], *port)
	klog.Fatal(http.ListenAndServe(fmt.Sprintf("%s:%d", *listenIP, *port), mux))
}
