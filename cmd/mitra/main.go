// Command mitra is the Mitra server and its administration tool.
//
//	mitra [serve]          serve the API (the default)
//	mitra migrate up|down|status
//	mitra openapi [--yaml] print the OpenAPI document
//	mitra version
//
// main only sets up signals and the exit code; run does the work, so tests
// can start the real program in-process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(mainWith(program{}))
}

// mainWith runs p with the process's arguments, environment and signals,
// and returns the exit code: 0 on success and after a graceful shutdown,
// 2 for usage errors, 1 otherwise.
func mainWith(p program) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(p.run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr)
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case isUsage(err):
		fmt.Fprintln(stderr, "mitra:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "mitra:", err)
		return 1
	}
}
