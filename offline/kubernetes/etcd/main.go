// Command etcd is etcd's server for the Kubernetes tier's local cluster (offline/kubernetes/build.sh): the
// server library at the version offline/kubernetes/versions.env pins, behind the same entry point as upstream's
// main (go.etcd.io/etcd/v3, a module the proxy does not serve at a tag of the server's).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
