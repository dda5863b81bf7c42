// Package assets holds what lab ships inside its binary, behind fs.FS
// accessors, so that an instructor's folder on disk and the embedded copy
// are read by the same code: the built-in lab folder (its spec, the
// manifests lab up deploys, its lessons), the spec format's JSON Schema,
// the seed write-up's fingerprints, and the namespace lab creates.
//
// Only data lives here; lab/labfolder opens and validates lab folders.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed labs namespace.yaml
var files embed.FS

// BuiltinLab names the built-in lab: its folder under labs/ and its
// metadata.name.
const BuiltinLab = "kubernetes-debug"

// BuiltinSource names the built-in lab in reports and errors.
const BuiltinSource = "built-in"

// Lab is the built-in lab folder: assignment.yaml, manifests/ and
// lessons/<lang>/ at its root.
func Lab() fs.FS { return sub(files, "labs/"+BuiltinLab) }

// NamespaceManifest is the namespace lab creates when --namespace names
// one that does not exist: lab's own, not any lab folder's.
func NamespaceManifest() []byte {
	data, err := files.ReadFile("namespace.yaml")
	if err != nil { // cannot happen: the file is embedded at build time
		panic(err)
	}
	return data
}

func sub(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil { // cannot happen: the folder is embedded at build time
		panic(err)
	}
	return s
}
