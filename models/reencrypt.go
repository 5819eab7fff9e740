package models

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// sealedColumn is a column that holds values Cipher.Encrypt made, each
// sealed with the AAD "<table>.<column>:<id>" of its row.
type sealedColumn struct {
	table, id, column string
}

// sealedColumns lists every encrypted column, so a key rotation finds every
// value to re-encrypt. A new encrypted column is one more line here (a
// test checks each AAD matches the one its writer uses).
var sealedColumns = []sealedColumn{
	{table: "upstream_apps", id: "id", column: "client_secret"},
	{table: "upstream_connections", id: "user_id || ':' || app_id", column: "access_token_sealed"},
	{table: "upstream_connections", id: "user_id || ':' || app_id", column: "refresh_token_sealed"},
	{table: "upstream_auth_states", id: "state_hash", column: "code_verifier_sealed"},
	{table: "shared_keys", id: "name", column: "value"},
}

func (c sealedColumn) aad(id string) string { return c.table + "." + c.column + ":" + id }

// isCheck reports whether the value of row id is the encryption check
// (see checkEncryptionKeys): sealed like a secret, and re-sealed with
// them, but no secret of anyone's, so not counted as one.
func (c sealedColumn) isCheck(id string) bool {
	return c.table == "shared_keys" && id == sharedKeyCheck
}

// sealedValue is one stored ciphertext and the row it belongs to: id as
// the driver returned it, for the WHERE clause, and as text, for the AAD.
type sealedValue struct {
	id     any
	idText string
	value  string
}

// values reads every non-empty value of c, or with limit > 0, that many
// at most.
func (c sealedColumn) values(db *gorm.DB, limit int) ([]sealedValue, error) {
	// The names come from sealedColumns, never from input.
	q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL AND %s <> ''", c.id, c.column, c.table, c.column, c.column)
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := db.Raw(q).Rows()
	if err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
	}
	defer rows.Close()
	var out []sealedValue
	for rows.Next() {
		var v sealedValue
		var value sql.NullString
		if err := rows.Scan(&v.id, &value); err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
		}
		switch id := v.id.(type) {
		case int64:
			v.idText = strconv.FormatInt(id, 10)
		case []byte:
			v.id = string(id) // the driver may reuse the buffer
			v.idText = string(id)
		case string:
			v.idText = id
		default:
			return nil, fmt.Errorf("read %s.%s: unexpected id type %T", c.table, c.column, id)
		}
		v.value = value.String
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
	}
	return out, nil
}

// ReencryptSecrets re-seals every encrypted value that is not sealed with
// the cipher's current key, in one transaction, and returns how many
// secrets it rewrote (the shared keys among them, not the encryption
// check: see isCheck). A value that does not decrypt (its key is no
// longer configured, or it was altered) stops it with an error naming
// the row, and nothing is rewritten: skipping it would leave a value
// only the old key opens.
//
// It does not bump the configuration version: the plaintexts, and so the
// configuration, are unchanged.
func (s *Store) ReencryptSecrets(ctx context.Context) (int, error) {
	n := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, c := range sealedColumns {
			values, err := c.values(tx, 0)
			if err != nil {
				return err
			}
			for _, v := range values {
				if !s.cipher.NeedsRotation(v.value) {
					continue
				}
				aad := c.aad(v.idText)
				plain, err := s.cipher.Decrypt(v.value, aad)
				if err != nil {
					return fmt.Errorf("%s %s: %w", c.table, v.idText, err)
				}
				sealed, err := s.cipher.Encrypt(plain, aad)
				if err != nil {
					return err
				}
				// Only if the value is still the one read: a token refreshed
				// meanwhile is already sealed with the current key, and must
				// not be put back.
				update := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ? AND %s = ?", c.table, c.column, c.id, c.column)
				res := tx.Exec(update, sealed, v.id, v.value)
				if res.Error != nil {
					return fmt.Errorf("%s %s: %w", c.table, v.idText, res.Error)
				}
				if !c.isCheck(v.idText) {
					n += int(res.RowsAffected)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("models: re-encrypt secrets: %w", err)
	}
	return n, nil
}

// SecretKeyIDs counts the stored encrypted values by the id of the key
// that sealed them. A key absent from the result seals nothing, so it can
// be removed once every running Drawbridge encrypts with a newer one.
// Values not in the v1 format are counted under "". The encryption check
// counts only while an older key than the current one seals it: the
// current key is never removed, and an older one it needs must not be.
func (s *Store) SecretKeyIDs(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	db := s.db.WithContext(ctx)
	for _, c := range sealedColumns {
		values, err := c.values(db, 0)
		if err != nil {
			return nil, fmt.Errorf("models: secret key ids: %w", err)
		}
		for _, v := range values {
			if c.isCheck(v.idText) && !s.cipher.NeedsRotation(v.value) {
				continue
			}
			counts[sealedKeyID(v.value)]++
		}
	}
	return counts, nil
}

// sealedKeyID returns the key id a value made by Encrypt names, or "".
func sealedKeyID(s string) string {
	rest, ok := strings.CutPrefix(s, cipherVersion+":")
	if !ok {
		return ""
	}
	kid, _, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	return kid
}
