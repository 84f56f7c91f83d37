// Command ferretdb-launcher runs FerretDB v1 through its embedded API.
//
// `go install github.com/FerretDB/FerretDB/cmd/ferretdb` builds a binary that
// panics at start on a missing version.txt (FerretDB issue 2982); the embedded
// API has no such file to find, so this wrapper is what we build instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address for MongoDB's wire protocol")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	dataDir := flag.String("data", "./data", "SQLite data folder (created when missing)")
	pgURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "PostgreSQL URL, with -handler=postgresql")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatalf("log level %q: %v", *logLevel, err)
	}

	cfg := ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Handler:  *handler,
		// Every connection is logged at info; that drowns the services' own logs.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	switch *handler {
	case "sqlite":
		dir, err := filepath.Abs(*dataDir)
		if err != nil {
			log.Fatalf("data folder %q: %v", *dataDir, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			log.Fatalf("data folder %q: %v", dir, err)
		}
		// FerretDB wants a file: URL that ends in a slash and names an existing folder. Its pool opens
		// many connections to one file, and SQLite lets one write at a time. The build makes writers
		// take turns on a mutex (serialize-writes.patch); a write transaction still takes the lock at
		// BEGIN (_txlock=immediate), so it never has to upgrade from reader. In WAL mode,
		// synchronous=NORMAL syncs at checkpoints rather than at every commit (a power cut may lose the
		// last commits, never the database).
		cfg.SQLiteURL = "file:" + strings.TrimSuffix(dir, "/") + "/?_txlock=immediate&_pragma=synchronous(normal)"
	case "postgresql":
		cfg.PostgreSQLURL = *pgURL
	default:
		log.Fatalf("unknown handler %q: use sqlite or postgresql", *handler)
	}

	db, err := ferretdb.New(&cfg)
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The harness waits for this line before it connects.
	fmt.Printf("ferretdb listening on %s (%s)\n", *listen, *handler)
	db.Run(ctx)
}
