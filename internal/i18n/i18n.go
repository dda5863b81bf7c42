// Package i18n is lab's one choice of language and its message catalog:
// every word lab prints for people (the grader's messages and hints, the
// commands' reports) comes from here in English or Russian.
//
// The language is decided the same way every time and remembered nowhere:
// --lang when given, else the locale the way gettext reads it (LC_ALL,
// LC_MESSAGES, LANG; ru… is Russian, anything else English). A student who
// read a lesson in Russian gets the grader's hint in Russian too.
//
// Formatting, plural forms and language matching are golang.org/x/text's
// (message, catalog, feature/plural: CLDR's rules, so "1 шаг, 2 шага,
// 5 шагов" come right without a rule of ours). The catalog itself is the
// table in messages.go, keyed by the English text as the code writes it, so
// that a call site reads as what it prints; it is built on first use, so
// that a command that prints nothing for people pays nothing at start.
package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/k8s-debug-lab/lab/internal/choice"
)

// Lang is a language lab speaks.
type Lang string

// The languages lab speaks, and its lessons come in.
const (
	English Lang = "en"
	Russian Lang = "ru"
)

// Langs lists the languages, the default first.
var Langs = []Lang{English, Russian}

// Parse resolves a --lang value; any case, as --lang RU is as clear as ru.
func Parse(s string) (Lang, error) {
	return choice.Parse("language", strings.ToLower(s), Langs)
}

// FromEnv picks the language from the locale the way gettext does: the
// first of LC_ALL, LC_MESSAGES and LANG that is set decides, so that a
// Russian desktop gets Russian without a flag. Anything that is not
// Russian ("C", "POSIX", "de_DE.UTF-8") gets English.
func FromEnv(getenv func(string) string) Lang {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		if strings.HasPrefix(strings.ToLower(v), "ru") {
			return Russian
		}
		return English
	}
	return English
}

// Names lists languages for a message: "en, ru".
func Names(ls []Lang) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

// Resolve is the one language choice of every command: flag when it was
// given, else the locale.
func Resolve(flag string, getenv func(string) string) (Lang, error) {
	if flag == "" {
		return FromEnv(getenv), nil
	}
	return Parse(flag)
}

func (l Lang) tag() language.Tag {
	if l == Russian {
		return language.Russian
	}
	return language.English
}

// Printer formats catalog messages in one language.
type Printer struct {
	lang Lang
	p    *message.Printer
}

var (
	buildOnce sync.Once
	printers  map[Lang]*Printer
)

// For returns the printer of lang; an unknown or empty lang is English.
func For(lang Lang) *Printer {
	buildOnce.Do(build)
	if p, ok := printers[lang]; ok {
		return p
	}
	return printers[English]
}

// Lang is the printer's language.
func (p *Printer) Lang() Lang { return p.lang }

// Sprintf formats the catalog's message for key (the English format) in
// the printer's language; a key the catalog lacks is printed as written.
// Whole numbers print as digits ("8080", not "8 080": ports, PIDs and line
// numbers are not amounts), and still choose plural forms.
func (p *Printer) Sprintf(key string, args ...any) string {
	for i, a := range args {
		switch n := a.(type) {
		case int:
			args[i] = digits(n)
		case int64:
			args[i] = digits(n)
		}
	}
	return p.p.Sprintf(key, args...)
}

// digits is a whole number printed without grouping that still tells
// x/text's plural rules which form it takes.
type digits int64

func (n digits) Format(f fmt.State, _ rune) { _, _ = f.Write(strconv.AppendInt(nil, int64(n), 10)) }

// PluralForm implements plural.Interface with CLDR's cardinal rules.
func (n digits) PluralForm(t language.Tag, _ int) (plural.Form, int) {
	i := int(n)
	if i < 0 {
		i = -i
	}
	return plural.Cardinal.MatchPlural(t, i, 0, 0, 0, 0), int(n)
}

func build() {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for _, e := range entries {
		if e.plural == nil {
			_ = b.SetString(language.Russian, e.key, e.ru)
			continue
		}
		pl := e.plural
		_ = b.Set(language.English, e.key, plural.Selectf(pl.arg, "%d", plural.One, pl.en[0], plural.Other, pl.en[1]))
		_ = b.Set(language.Russian, e.key, plural.Selectf(pl.arg, "%d",
			plural.One, pl.ru[0], plural.Few, pl.ru[1], plural.Many, pl.ru[2], plural.Other, pl.ru[1]))
	}
	printers = map[Lang]*Printer{}
	for _, l := range Langs {
		printers[l] = &Printer{lang: l, p: message.NewPrinter(l.tag(), message.Catalog(b))}
	}
}

// entry is one message: its key is the English text; ru its Russian, or
// plural its forms when a number decides the words.
type entry struct {
	key    string
	ru     string
	plural *forms
}

// forms are a message's plural forms: English one/other, Russian
// one/few/many ("1 шаг", "2 шага", "5 шагов"); arg is the 1-based
// argument whose value chooses.
type forms struct {
	arg int
	en  [2]string
	ru  [3]string
}

func msg(key, ru string) entry { return entry{key: key, ru: ru} }

func plur(key string, arg int, en [2]string, ru [3]string) entry {
	return entry{key: key, plural: &forms{arg: arg, en: en, ru: ru}}
}
