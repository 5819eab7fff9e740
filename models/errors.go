package models

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Sentinel errors every store method wraps, so callers can decide with
// errors.Is and one HTTP error handler can map them to status codes.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write would break a uniqueness rule.
	ErrConflict = errors.New("conflict")
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in one input, so a form or an
// API caller learns all of them at once.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

// Add records a problem with field.
func (v *ValidationError) Add(field, message string) {
	v.Fields = append(v.Fields, FieldError{Field: field, Message: message})
}

// Err returns v when it holds at least one problem, and nil otherwise.
func (v *ValidationError) Err() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

// For returns the first message recorded for field, or "".
func (v *ValidationError) For(field string) string {
	for _, f := range v.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// Map returns the first message per field, keyed by field name.
func (v *ValidationError) Map() map[string]string {
	m := make(map[string]string, len(v.Fields))
	for _, f := range v.Fields {
		if _, ok := m[f.Field]; !ok {
			m[f.Field] = f.Message
		}
	}
	return m
}

func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// ConflictError is an ErrConflict that names the field whose value is
// already taken, so a form can show the message next to that field.
// errors.Is(err, ErrConflict) reports true for it.
type ConflictError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error returns the field and its message.
func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrConflict) hold for every *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// dbError maps GORM's error kinds onto ours; other errors pass through.
// It relies on gorm.Config.TranslateError, which turns each driver's
// unique-violation code into gorm.ErrDuplicatedKey.
func dbError(err error) error {
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrConflict
	default:
		return err
	}
}

// translate gives an error from a statement run through database/sql,
// past gorm, the kind dbError gives gorm's: a unique violation is
// ErrConflict, with the driver's error kept for its detail. Each
// dialector knows its own driver's codes.
func (s *Store) translate(err error) error {
	t, ok := s.db.Dialector.(gorm.ErrorTranslator)
	if !ok || !errors.Is(t.Translate(err), gorm.ErrDuplicatedKey) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrConflict, err)
}
