package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// The student: the lesson was Russian, so is lab check's hint for
// a missing file, and --lang decides over the locale.
func TestCheckLanguage(t *testing.T) {
	answers := answersDir(t, seed, "step-3.txt")
	t.Setenv("LANG", "ru_RU.UTF-8")
	r := lab(t, "check", "step-5", "--offline", "--answers", answers)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1: %v", r.code, r.returnedError)
	}
	for _, want := range []string{
		"✗ step-5 tcpdump видит HTTP-трафик на порту 80",
		"step-5.txt не найден (и ",
		"подсказка: сохраните его командой: tcpdump -nn -i any -e host <pod IP> and port 80 в отладочном контейнере",
		"баллы: 0/3 · пройдено: 0 · не пройдено: 1",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("LANG=ru_RU.UTF-8: output lacks %q:\n%s", want, r.out)
		}
	}

	r = lab(t, "check", "step-5", "--offline", "--answers", answers, "--lang", "en")
	if !strings.Contains(r.out, "hint: save it with: tcpdump") {
		t.Errorf("--lang en did not override LANG:\n%s", r.out)
	}

	// JSON: the message in Russian, the machine fields in English.
	r = lab(t, "check", "step-5", "--offline", "--answers", answers, "--format", "json")
	var doc struct {
		Lang    string
		Results []struct{ Status, Message string }
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	if doc.Lang != "ru" || len(doc.Results) != 1 || doc.Results[0].Status != "fail" || !strings.Contains(doc.Results[0].Message, "не найден") {
		t.Errorf("json: %+v", doc)
	}

	// lab check's own usage errors speak it too.
	r = lab(t, "check", "--offline", "--answers", answers+"/nothing")
	if r.code != ExitUsage || !strings.Contains(r.returnedError.Error(), "каталога ответов") {
		t.Errorf("no answers folder: exit %d, %v", r.code, r.returnedError)
	}
	r = lab(t, "check", "step-9", "--offline", "--answers", answers)
	if r.code != ExitUsage || !strings.Contains(r.returnedError.Error(), "неизвестный шаг") {
		t.Errorf("unknown step: exit %d, %v", r.code, r.returnedError)
	}

	r = lab(t, "check", "--lang", "de", "--offline", "--answers", answers)
	if r.code != ExitUsage || r.returnedError.Error() != "unknown language: de (want en or ru)" {
		t.Errorf("--lang de: exit %d, %v", r.code, r.returnedError)
	}
}
