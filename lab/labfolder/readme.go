package labfolder

// readme is the README.md that New writes beside the spec: what the folder
// holds and how each field of the spec is used, for an instructor who
// edits it without lab's own README at hand.
const readme = `# A lab assignment

This folder is an assignment for [lab](https://github.com/k8s-debug-lab/lab):
the steps students do, the answers file that proves each one, and the hints
they get when an answer is wrong. It was started from lab's built-in
assignment by ` + "`lab assignment new`" + `.

    assignment.yaml          the spec (apiVersion lab/v1): steps, files, rules, hints
    assignment.schema.json   its JSON Schema: your editor completes and checks the spec
    lessons/<lang>/<id>.md   the lessons, one folder per language (en, ru), one file per step

Check it after every edit, then use it wherever lab takes ` + "`--assignment`" + `:

    lab assignment validate .            # the first mistake, as file:line: field: what is wrong
    lab check --assignment .             # a student grades their answers/ against it
    lab init --assignment . ../template  # a student workspace (template repository) for it
    lab grade --assignment . submissions # a whole class

A mistake stops lab with its place, e.g.

    assignment.yaml:31: steps[2].require[0].fact: parser ls reports no fact "entries" (it reports: …)

## Editor completion

The first line of assignment.yaml is a modeline for the YAML language server
(VS Code's YAML extension, Neovim's yamlls, JetBrains IDEs):

    # yaml-language-server: $schema=./assignment.schema.json

With it the editor lists the fields, the parsers, each parser's facts (with
what they mean), the matchers and the live checks, and underlines a mistake
as you type. ` + "`lab assignment schema`" + ` prints the schema of the lab you have.

## The spec

` + "```yaml" + `
apiVersion: lab/v1          # the format's version; lab refuses versions it does not read
kind: Assignment
metadata:
  name: kubernetes-debug    # a short identifier, in every report
  title: "…"                # for people
steps:
  - id: step-5              # step-N or star
    title: tcpdump sees the HTTP traffic on port 80
    points: 3
    files: [step-5.txt, step-5.pcap]   # inside answers/; the first present is graded
    parser: tcpdump         # which parser reads it: ls, ps, tcpdump, pod-table, podlog, strace
    produce: "tcpdump -nn -i any -e port 80 > answers/step-5.txt"  # shown when the file is missing
    expect: |               # skeleton lines, shown beside the closest line of a failed answer
      … > 127.0.0.1.80: Flags [P.], … length 77: HTTP: GET / HTTP/1.1
    diagnose:               # known mistakes, tried in order; the first that holds fails the step
      - when:
          - {fact: packet.port80, match: absent}
        message: packets, but none on port 80
        hint: "capture with the filter port 80"
    require:                # must all hold to pass
      - fact: http.request
        message: no HTTP request line on port 80
        hint: "send a request while tcpdump listens"
    live: [node-debugger]   # checks against the lab's cluster; skipped offline
` + "```" + `

A step has files to grade (then parser and at least one require rule), live
checks, or both. Facts are what a parser observed in the answer; each
parser's facts are listed in the schema and in lab's docs/facts.md.

Matchers (` + "`match:`" + `):

| matcher | holds when |
|---------|------------|
| present (default) | the fact was observed at least ` + "`min`" + ` times (default 1) |
| absent | the fact was never observed |
| anyOf | one of the fact's values is in ` + "`values`" + ` |
| noneOf | none of the fact's values is in ` + "`values`" + ` |
| subsetOf | the fact was observed and all its values are in ` + "`values`" + ` |
| contains | one of the fact's values contains one of ` + "`values`" + ` as a substring |

Live checks: pod-shares-pid, ephemeral-debugger, node-debugger.

## Lessons

Lessons are markdown files, one folder per language and one file per step,
named after the step's id (step-3.md, star.md; intro.md and other names for
lessons that are not graded steps). Each starts with a "# Title" line.

    lessons/en/step-3.md
    lessons/ru/step-3.md

` + "`lab lesson --assignment .`" + ` reads them from here the way it reads its
built-in lessons (they were copied here to start from), filling in
placeholders such as {{.PodUID}} from the student's cluster.
` + "`lab assignment validate`" + ` checks that they read, and warns about a step
without a lesson.
`
