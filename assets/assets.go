// Package assets holds what lab ships inside its binary: the built-in
// assignment spec (and, as they land, the manifests it deploys), behind
// fs.FS accessors so that an instructor's folder on disk and the embedded
// copy are read by the same code.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed assignment
var files embed.FS

// BuiltinSource names the embedded assignment in reports and errors.
const BuiltinSource = "built-in"

// Assignment is the built-in assignment folder (assignment.yaml at its root).
func Assignment() fs.FS {
	sub, err := fs.Sub(files, "assignment")
	if err != nil { // cannot happen: the folder is embedded at build time
		panic(err)
	}
	return sub
}
