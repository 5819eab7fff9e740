package handlers

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// newTestStore opens a fresh SQLite store on a temp file, closed when t
// ends.
func newTestStore(t testing.TB) *models.Store {
	t.Helper()
	cipher, err := models.NewCipher(models.Key{ID: "test", Secret: bytes.Repeat([]byte{7}, models.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := models.Open(context.Background(), models.Options{
		Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "drawbridge.db"), Cipher: cipher,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}
