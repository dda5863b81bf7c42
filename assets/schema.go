//go:generate go run ../internal/gen

package assets

import (
	"embed"
	"io/fs"
)

//go:embed schema/assignment.schema.json
var schemaFiles embed.FS

// SchemaFile is the JSON Schema's name inside Schema().
const SchemaFile = "assignment.schema.json"

// Schema is the folder holding the JSON Schema (draft 2020-12) of the
// assignment spec format, which `lab assignment new` puts beside a new
// assignment.yaml so that editors complete and check it offline. It is
// generated from the code (parsers, facts, matchers, live checks) by
// `go test ./lab/labfolder -update`, and a test fails when it is stale.
func Schema() fs.FS {
	return sub(schemaFiles, "schema")
}
