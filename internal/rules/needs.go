package rules

import "slices"

// Needs returns the registry data the rules and computed fields read, as
// source → fields: "population" → ["birth_date", …],
// "licence.driving_licence" → ["class"], "licence_last.food_business_licence"
// → ["status"]. The caller reads these before
// deciding; the credit registry's level and blacklist are always needed,
// for the credit safeguard.
func (p *Program) Needs() map[string][]string {
	out := map[string][]string{"credit": {"level", "blacklisted"}}
	addNeeds(out, p.paths())
	return out
}

// ComputedNeeds returns the registry data the computed fields alone read,
// in the shape of Needs: what a draft reads to fill them in.
func (p *Program) ComputedNeeds() map[string][]string {
	out := map[string][]string{}
	for _, c := range p.computed {
		addNeeds(out, c.paths)
	}
	return out
}

// addNeeds adds the registry fields of paths to out.
func addNeeds(out map[string][]string, paths [][]string) {
	add := func(source, field string) {
		if !slices.Contains(out[source], field) {
			out[source] = append(out[source], field)
		}
	}
	for _, path := range paths {
		if len(path) < 3 || path[0] != varSources {
			continue
		}
		switch {
		case isLicenceMap(path[1]) && len(path) >= 4: // sources.licence.TYPE.FIELD
			add(path[1]+"."+path[2], path[3])
		case isLicenceMap(path[1]): // "TYPE" in sources.licence: whether it is there
			add(path[1]+"."+path[2], "status")
		default:
			add(path[1], path[2])
		}
	}
}
