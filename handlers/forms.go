package handlers

import (
	"strings"

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
