// Wrapper main for etcd: go.etcd.io/etcd/server/v3 cannot be `go install`ed
// because its go.mod has replace directives, so t/cluster/build builds this
// file in a generated module that requires go.etcd.io/etcd/server/v3.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
