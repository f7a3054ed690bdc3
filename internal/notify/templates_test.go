package notify

import "testing"

// TestEveryKindHasATemplate: an email or SMS of any kind opens by saying
// why, in both languages.
func TestEveryKindHasATemplate(t *testing.T) {
	for _, k := range Kinds {
		if in := intros[k]; in[0] == "" || in[1] == "" {
			t.Errorf("kind %s has no introduction in Chinese and English", k)
		}
	}
}
