package checks

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// AnswersDir is the answers folder's name: in a student's workspace, in a
// hand-in, and in every message that names a file in it.
const AnswersDir = "answers"

// RecordFile is the one file lab writes into an answers folder: the
// evidence a live lab check leaves for offline grading.
const RecordFile = "lab-record.json"

// OpenAnswers opens an answers folder for grading with the one rule lab
// applies to symbolic links everywhere (lab check, --file, lab grade): a
// link that stays inside the folder is followed, one that leads out of it
// is refused. A hand-in cannot make lab read, and quote in a report, a
// file that is not part of it, and lab check says what lab grade will.
//
// A folder that does not exist opens as an empty one, so that each step
// fails with its own "not found" and the command that writes the file; one
// that cannot be read fails every step with the reason. close is never
// nil.
func OpenAnswers(dir string) (fsys fs.FS, close func() error, err error) {
	r, err := os.OpenRoot(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NoAnswers, func() error { return nil }, nil
	case err != nil:
		return unreadableFolder{err}, func() error { return nil }, err
	}
	return r.FS(), r.Close, nil
}

// NoAnswers is an answers folder that is not there: every file is
// missing, so each step fails with its own "not found" and its command.
var NoAnswers fs.FS = missingFolder{}

// missingFolder is an answers folder that is not there.
type missingFolder struct{}

func (missingFolder) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// unreadableFolder is an answers folder that cannot be opened.
type unreadableFolder struct{ err error }

func (u unreadableFolder) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: u.err}
}

// leavesFolder reports whether err is os.Root refusing a path (a symbolic
// link, or ..) that leads out of the folder. The os package has no
// sentinel for it; its message has been the same since os.Root came.
func leavesFolder(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}
