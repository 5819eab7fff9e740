package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// fieldErrors turns the store's per-field problems ("must be …") into the
// sentences a form shows under each field ("Email must be …."). labels
// names the fields people see; a field without a label is shown as is.
func fieldErrors(verr *models.ValidationError, labels map[string]string) map[string]string {
	out := make(map[string]string, len(verr.Fields))
	for _, f := range verr.Fields {
		if _, seen := out[f.Field]; seen {
			continue
		}
		label, ok := labels[f.Field]
		if !ok {
			label = f.Field
		}
		msg := strings.TrimSuffix(f.Message, ".")
		out[f.Field] = label + " " + msg + "."
	}
	return out
}

// formProblems turns a store error caused by the input into the form's
// messages and status: 422 for invalid fields, 409 for a uniqueness
// conflict. ok is false for any other error, which is not the input's
// fault and goes to the error handler.
func formProblems(err error, labels map[string]string) (status int, messages map[string]string, ok bool) {
	var verr *models.ValidationError
	var cerr *models.ConflictError
	switch {
	case errors.As(err, &cerr):
		return http.StatusConflict, map[string]string{cerr.Field: conflictSentence(cerr, labels)}, true
	case errors.As(err, &verr):
		return http.StatusUnprocessableEntity, fieldErrors(verr, labels), true
	}
	return 0, nil, false
}

// conflictSentence phrases a uniqueness conflict for the form.
func conflictSentence(cerr *models.ConflictError, labels map[string]string) string {
	label, ok := labels[cerr.Field]
	if !ok {
		label = cerr.Field
	}
	return label + " " + strings.TrimSuffix(cerr.Message, ".") + "."
}

// listParams reads a list page's ?q= and ?page= (1 when absent or bad).
func listParams(c echo.Context) (string, int) {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	return strings.TrimSpace(c.QueryParam("q")), max(page, 1)
}

// pathID reads the :id path parameter; a bad one is simply not found.
func pathID(c echo.Context) (uint, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		return 0, models.ErrNotFound
	}
	return uint(id), nil
}

// formInt reads a whole number field; anything else becomes -1, which
// every range check refuses.
func formInt(v string) int {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// formID reads an ID; anything else becomes 0, which names nothing.
func formID(v string) uint {
	id, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return uint(id)
}

// formIDs reads every value of a checkbox list of IDs.
func formIDs(c echo.Context, name string) []uint {
	if err := c.Request().ParseForm(); err != nil {
		return nil
	}
	var ids []uint
	for _, v := range c.Request().PostForm[name] {
		ids = append(ids, formID(v))
	}
	return ids
}
