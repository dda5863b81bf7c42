package deploy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Drift is the first place where a live object differs from what lab would
// apply, as a path and both values ("spec.containers[0].image: want
// kyos0109/nginx-distroless, have nginx:1.27").
type Drift struct {
	Path string
	Want any
	Have any
}

func (d *Drift) String() string {
	if d.Have == nil {
		return fmt.Sprintf("%s: want %s, it is not set", d.Path, show(d.Want))
	}
	return fmt.Sprintf("%s: want %s, have %s", d.Path, show(d.Want), show(d.Have))
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}

// findDrift compares what lab would apply with the live object: every
// field lab sets must hold the same value live. Fields lab does not set
// (defaults the API server fills in, the ephemeral containers students
// add, labels others add) are not drift. A list lab sets must have the
// same length live; its items are compared in order, as the pod's
// containers and ports are.
func findDrift(want, have any, section string) (*Drift, error) {
	w, err := toJSONMap(want)
	if err != nil {
		return nil, err
	}
	h, err := toJSONMap(have)
	if err != nil {
		return nil, err
	}
	return subset(w[section], h[section], section), nil
}

func toJSONMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func subset(want, have any, path string) *Drift {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return &Drift{path, want, have}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := subset(w[k], h[k], path+"."+k); d != nil {
				return d
			}
		}
		return nil
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return &Drift{path, want, have}
		}
		for i := range w {
			if d := subset(w[i], h[i], fmt.Sprintf("%s[%d]", path, i)); d != nil {
				return d
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want, have) {
		return &Drift{path, want, have}
	}
	return nil
}
