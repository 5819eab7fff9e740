package pgtest

import (
	"context"
	"testing"
	"time"
)

// TestClusterStopsAndStartsAgain checks that a private cluster refuses
// connections while stopped and serves the same data once started again.
func TestClusterStopsAndStartsAgain(t *testing.T) {
	c := NewCluster(t)
	db := open(t, c.DSN(t))
	// One connection, so that every query after the restart must make a
	// new one.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE kept (x int); INSERT INTO kept VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("the stopped cluster answered a ping")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := db.QueryRow("SELECT x FROM kept").Scan(&x); err != nil || x != 3 {
		t.Errorf("after the restart: %d, %v; want the row written before", x, err)
	}
}

// TestCreateDatabaseAndDrop checks that CreateDatabase makes a database
// of its own that drop removes, open connections and all.
func TestCreateDatabaseAndDrop(t *testing.T) {
	c := NewCluster(t)
	ctx := context.Background()
	dsn, drop, err := CreateDatabase(ctx, c.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	if _, err := db.Exec("CREATE TABLE mine (x int)"); err != nil {
		t.Fatal(err)
	}
	if err := drop(ctx); err != nil {
		t.Fatalf("drop with a connection open: %v", err)
	}
	if err := db.Ping(); err == nil {
		t.Error("the dropped database still answers")
	}
}
