package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/store"
)

// MaxGenerated bounds the persons and the enterprises one generation makes:
// the birth-date scheme below gives each of up to this many persons an ID
// number of their own.
const MaxGenerated = 10_000_000

// Entry is one registry record of one subject, before it is sealed.
type Entry struct {
	Source  string
	Subject hub.Subject
	Record  hub.Record
}

// Generator makes fictional but internally consistent registry records for
// the demo district. A person's or enterprise's records depend only on its
// number, the seed, the sizes and the day they are made for, so any range of
// them can be made on its own, in any order and on any goroutine, and the
// same seed, sizes and day give the same records. (The day matters because
// ages are kept: a 60-year-old stays 60, and some turn 60 on the day.) A
// Generator is safe for concurrent use.
type Generator struct {
	persons, enterprises int
	seed                 uint64
	today                time.Time // midnight UTC of the day ages are counted on
	seqs                 []int     // ID sequence codes, in (even = female, odd = male) pairs
	slots                []ageSlot // birth-year slots, shuffled
	pairOffset           []int     // per pair of sequence codes: where in slots its persons start
	dayShift             []int     // per sequence code: how its birthdays are spread over the year
	surnameTotal         int
	lastMonths           []string // the twelve months before this one, "YYYY-MM", oldest first
	nameSpace, nameStep  int      // distinct enterprise names, and a step coprime with it to scatter them
}

// ageSlot is a birth year (as an age in years this year) and how many slots
// before this one have the same year, which picks the day within it.
type ageSlot struct{ age, nth int }

// person is who a generated person is: what the ID number says and the name.
type person struct {
	i     int // number of the person; -1 for a demo person
	id    string
	name  string
	male  bool
	birth time.Time
	age   int
}

// Random streams: each aspect of a subject draws from its own stream, so a
// person's partner or employer can be worked out without making all of it.
const (
	streamCore uint64 = iota + 1
	streamPair
	streamLife
	streamHomes
	streamAddress
	streamEnterpriseCore
	streamEnterprise
	streamTable
)

// NewGenerator returns a generator of persons and enterprises for seed, with
// ages counted on today's date (in today's location).
func NewGenerator(persons, enterprises int, seed uint64, today time.Time) (*Generator, error) {
	for _, n := range []struct {
		what string
		n    int
	}{{"persons", persons}, {"enterprises", enterprises}} {
		if n.n < 0 || n.n > MaxGenerated {
			return nil, fmt.Errorf("the number of %s must be between 0 and %s, not %d", n.what, thousands(MaxGenerated), n.n)
		}
	}
	y, m, d := today.Date()
	g := &Generator{persons: persons, enterprises: enterprises, seed: seed, today: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}

	// Sequence codes come in (female, male) pairs so that persons 2k and
	// 2k+1 can be a couple; the demo people's codes are left out so that no
	// generated ID number can be theirs.
	reserved := map[int]bool{}
	for _, id := range []string{ZhangSan, LiSi, WangWu} {
		n, _ := strconv.Atoi(id[14:17])
		reserved[n] = true
	}
	for k := 1; k < 500; k++ {
		if !reserved[2*k] && !reserved[2*k+1] {
			g.seqs = append(g.seqs, 2*k, 2*k+1)
		}
	}

	// Persons with the same sequence code differ by birth date: block b of
	// them (b = i / len(seqs)) takes slot (b + offset) of a table as long as
	// the largest block count, each slot a distinct (year, day). Ages follow
	// a rough population pyramid.
	n := MaxGenerated/len(g.seqs) + 2
	weights := make([]float64, 101)
	sum := 0.0
	for age := 1; age <= 100; age++ {
		weights[age] = ageWeight(age)
		sum += weights[age]
	}
	counts := make([]int, 101)
	cum, age := 0.0, 1
	for s := 0; s < n; s++ {
		at := (float64(s) + 0.5) / float64(n) * sum
		for age < 100 && cum+weights[age] < at {
			cum += weights[age]
			age++
		}
		g.slots = append(g.slots, ageSlot{age: age, nth: counts[age]})
		counts[age]++
	}
	shuffle := rand.New(rand.NewPCG(seed, mix(streamTable)))
	shuffle.Shuffle(len(g.slots), func(a, b int) { g.slots[a], g.slots[b] = g.slots[b], g.slots[a] })
	for k := 0; k < len(g.seqs)/2; k++ {
		g.pairOffset = append(g.pairOffset, shuffle.IntN(n))
	}
	for range g.seqs {
		g.dayShift = append(g.dayShift, shuffle.IntN(366))
	}
	for _, s := range surnames {
		g.surnameTotal += s.weight
	}
	thisMonth := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	for k := 12; k >= 1; k-- {
		g.lastMonths = append(g.lastMonths, thisMonth.AddDate(0, -k, 0).Format("2006-01"))
	}
	g.nameSpace = (len(tradeFirst)*len(tradeSecond) + len(tradeFirst)*len(tradeSecond)*len(tradeThird)) * len(industries) * 2
	g.nameStep = 7919
	for gcd(g.nameStep, g.nameSpace) != 1 {
		g.nameStep += 2
	}
	return g, nil
}

// ageWeight is the relative number of people of an age.
func ageWeight(age int) float64 {
	switch {
	case age <= 8:
		return 0.8
	case age <= 17:
		return 1.0
	case age <= 34:
		return 1.1
	case age <= 59:
		return 1.3
	case age <= 69:
		return 1.1
	case age <= 79:
		return 0.7
	case age <= 89:
		return 0.3
	}
	return 0.06
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mix is SplitMix64's finaliser: it turns neighbouring numbers into
// unrelated seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng returns the random stream of subject n's aspect.
func (g *Generator) rng(stream uint64, n int) *rand.Rand {
	return rand.New(rand.NewPCG(mix(g.seed^mix(stream)), mix(uint64(n)^stream<<56)))
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// Persons returns how many persons the generator makes.
func (g *Generator) Persons() int { return g.persons }

// Enterprises returns how many enterprises the generator makes.
func (g *Generator) Enterprises() int { return g.enterprises }

// Today returns the day ages are counted on.
func (g *Generator) Today() time.Time { return g.today }

// core works out person i's ID number, sex, birth date and name.
func (g *Generator) core(i int) person {
	birth, seq := g.birthSeq(i)
	p := person{i: i, id: idNumberOf(birth, seq), male: seq%2 == 1, birth: birth}
	p.age = ident.Person{BirthDate: birth}.AgeOn(g.today)
	rn := g.rng(streamCore, i)
	p.name = g.personName(rn, p.male, birth.Year())
	return p
}

// birthSeq works out person i's birth date and ID sequence code, which make
// the ID number.
func (g *Generator) birthSeq(i int) (birth time.Time, seq int) {
	block, r := i/len(g.seqs), i%len(g.seqs)
	seq = g.seqs[r]
	switch r / 2 {
	case 0: // the first pair of each block turns 60 on consecutive weeks of the year, starting today
		birth = g.milestone(60, block)
	case 1: // and the second pair turns 80
		birth = g.milestone(80, block)
	default:
		s := g.slots[(block+g.pairOffset[r/2])%len(g.slots)]
		year := g.today.Year() - s.age
		day := (s.nth*7 + g.dayShift[r]) % daysIn(year)
		birth = time.Date(year, 1, 1+day, 0, 0, 0, 0, time.UTC)
	}
	return birth, seq
}

// milestone is the birth date of the block-th person of a milestone pair:
// exactly age years before today for block 0, then a week later each block,
// so that over a year's worth of blocks every day has someone turning age.
// Blocks beyond a year go one year older, keeping every date distinct.
func (g *Generator) milestone(age, block int) time.Time {
	for k := 0; ; k++ {
		year := g.today.Year() - age - k
		n := daysIn(year)
		if block < n {
			start := time.Date(year, g.today.Month(), g.today.Day(), 0, 0, 0, 0, time.UTC).YearDay() - 1
			return time.Date(year, 1, 1+(start+block*7)%n, 0, 0, 0, 0, time.UTC)
		}
		block -= n
	}
}

func daysIn(year int) int { return time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() }

// idNumberOf builds a resident ID number of the demo district.
func idNumberOf(birth time.Time, seq int) string {
	var b [18]byte
	copy(b[:], "910102")
	y, m, d := birth.Date()
	put := func(at, n, width int) {
		for k := width - 1; k >= 0; k-- {
			b[at+k] = byte('0' + n%10)
			n /= 10
		}
	}
	put(6, y, 4)
	put(10, int(m), 2)
	put(12, d, 2)
	put(14, seq, 3)
	c, err := ident.IDNumberCheck(string(b[:17]))
	if err != nil {
		panic(err) // only digits were written above
	}
	b[17] = c
	return string(b[:])
}

// personName composes a name: a surname weighted by how common it is and
// one or two given-name characters fitting the person's sex and generation.
func (g *Generator) personName(r *rand.Rand, male bool, born int) string {
	n := r.IntN(g.surnameTotal)
	var b strings.Builder
	for _, s := range surnames {
		if n < s.weight {
			b.WriteString(s.word)
			break
		}
		n -= s.weight
	}
	chars := femaleYounger
	switch {
	case male && born < 1980:
		chars = maleOlder
	case male:
		chars = maleYounger
	case born < 1980:
		chars = femaleOlder
	}
	single := 0.2
	if born < 1980 {
		single = 0.35
	}
	b.WriteRune(pick(r, chars))
	if !chance(r, single) {
		b.WriteRune(pick(r, chars))
	}
	return b.String()
}

// couple is what persons 2k (a woman) and 2k+1 (a man) share: whether they
// are married to each other, and their lives and households as far as they
// depend on each other.
type couple struct {
	married  bool
	dead     [2]bool
	died     [2]time.Time
	status   [2]string
	children [2]int
	home     [2]int // community of the household registration
	live     [2]int // community lived in
}

// coupleOf works out pair k from its members' cores (b is nil when the
// woman is the last person generated).
func (g *Generator) coupleOf(k int, a, b *person) couple {
	r := g.rng(streamPair, k)
	var c couple
	youngest := a.age
	if b != nil && b.age < youngest {
		youngest = b.age
	}
	// The pairs with birthdays today were born on the same day: not a couple.
	milestone := (k % (len(g.seqs) / 2)) < 2
	c.married = b != nil && !milestone && youngest >= 22 && chance(r, marriageRate(youngest))
	for m := range 2 {
		c.home[m] = r.IntN(len(communities))
		c.live[m] = c.home[m]
		if chance(r, 0.1) {
			c.live[m] = r.IntN(len(communities))
		}
	}
	for m, p := range []*person{a, b} { // those with birthdays today must be alive to have them
		if p == nil || p.age < 65 || milestone {
			continue
		}
		if chance(r, math.Min(0.25, float64(p.age-64)*0.006)) {
			c.dead[m] = true
			back := 1 + r.IntN(min(5*365, (p.age-64)*365))
			c.died[m] = g.today.AddDate(0, 0, -back)
		}
	}
	if c.married {
		c.home[1], c.live[1] = c.home[0], c.live[0]
		if c.dead[0] && c.dead[1] {
			c.dead[1] = false
		}
		c.status = [2]string{"married", "married"}
		if c.dead[0] {
			c.status[1] = "widowed"
		}
		if c.dead[1] {
			c.status[0] = "widowed"
		}
		n := childrenFor(r, youngest)
		c.children = [2]int{n, n}
		return c
	}
	for m, p := range []*person{a, b} {
		if p == nil {
			continue
		}
		c.status[m] = soloStatus(r, p.age)
		if c.status[m] != "single" {
			c.children[m] = childrenFor(r, p.age)
		}
	}
	return c
}

func marriageRate(age int) float64 {
	switch {
	case age < 26:
		return 0.2
	case age < 31:
		return 0.5
	case age < 41:
		return 0.75
	case age < 61:
		return 0.82
	case age < 76:
		return 0.75
	}
	return 0.6
}

// soloStatus is the marital status of someone not married to their pair.
func soloStatus(r *rand.Rand, age int) string {
	u := r.Float64()
	switch {
	case age < 28:
		return "single"
	case age < 60:
		if u < 0.12 {
			return "divorced"
		}
	default:
		if u < 0.4 {
			return "widowed"
		}
		if u < 0.46 {
			return "divorced"
		}
	}
	return "single"
}

func childrenFor(r *rand.Rand, age int) int {
	switch {
	case age < 25:
		if chance(r, 0.3) {
			return 1
		}
		return 0
	case age < 40:
		return r.IntN(3)
	}
	return 1 + r.IntN(3)
}

// holding is a home a person owns.
type holding struct {
	addr, cert, unit string
	area             float64
	issued           time.Time
}

// holdings is what the property registry knows of a person: whether it has
// a record of them at all, and their homes.
type holdings struct {
	record bool
	homes  []holding
}

// holdingsOf works out person p's homes; the first is in the community p
// lives in.
func (g *Generator) holdingsOf(p *person, dead bool, live int) holdings {
	if p == nil || dead || p.age < 23 {
		return holdings{}
	}
	r := g.rng(streamHomes, p.i)
	if !chance(r, 0.55) {
		return holdings{}
	}
	h := holdings{record: true}
	u := r.Float64()
	if p.age < 30 {
		u = u*0.6 + 0.4*r.Float64()*0.6 // the young own less
	}
	n := 0
	switch {
	case u < 0.38:
		n = 0
	case u < 0.83:
		n = 1
	case u < 0.97:
		n = 2
	default:
		n = 3
	}
	for k := range n {
		c := live
		if k > 0 {
			c = r.IntN(len(communities))
		}
		first := max(p.birth.Year()+23, 1998)
		year := first + r.IntN(max(1, g.today.Year()-first+1))
		issued := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
		if !issued.Before(g.today) {
			issued = g.today.AddDate(0, 0, -1-r.IntN(200))
		}
		area := math.Round(math.Max(40, math.Min(180, 95+r.NormFloat64()*28))*100) / 100
		addr, building, room := g.address(r, c)
		h.homes = append(h.homes, holding{
			addr:   addr,
			cert:   fmt.Sprintf("示（%d）示范市不动产权第%08d号", issued.Year(), p.i*3+k+1),
			unit:   fmt.Sprintf("%sGB%05dF%04d%04d", communities[c].code, 1+r.IntN(99999), building, room),
			area:   area,
			issued: issued,
		})
	}
	return h
}

// address composes a street address in community c, and returns its
// building and room numbers too.
func (g *Generator) address(r *rand.Rand, c int) (string, int, int) {
	cm := communities[c]
	building, room := 1+r.IntN(30), (1+r.IntN(32))*100+1+r.IntN(6)
	estate := ""
	if chance(r, 0.6) {
		estate = pick(r, compounds)
	}
	road, number := pick(r, roads), strconv.Itoa(1+r.IntN(300))
	return cityDistrict + cm.street + cm.name + " " + road + number + "号" + estate + strconv.Itoa(building) + "栋" + strconv.Itoa(room), building, room
}

// day writes a date as YYYY-MM-DD (what time.Format does, in a tenth of
// the time, which counts over millions of records).
func day(t time.Time) string {
	y, m, d := t.Date()
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + d/10), byte('0' + d%10)}
	return string(b[:])
}

func personSubject(id string) hub.Subject { return hub.Subject{Kind: hub.Person, Key: id} }

// licence returns the fields every e-licence has; a zero expiry means the
// licence does not expire.
func licence(typ, number string, holder *person, issuer string, issued, expires time.Time, status string) hub.Record {
	rec := make(hub.Record, 20)
	rec["type"], rec["number"], rec["holder"], rec["holder_id"] = typ, number, holder.name, holder.id
	rec["issuer"], rec["issue_date"], rec["status"], rec["trust_level"] = issuer, day(issued), status, "A"
	if !expires.IsZero() {
		rec["expiry_date"] = day(expires)
	}
	return rec
}

// identityDocuments are the e-licences of a living person's identity: the
// household register for everyone and, from 16, the resident identity card,
// valid 10, 20 years or long-term by the holder's age when it was issued.
// Most items take these as materials, so every person has them.
func (g *Generator) identityDocuments(p *person, pop hub.Record) []Entry {
	reg := licence("household_register", pop["household"].(string), p, issuerPolice, p.birth, time.Time{}, "valid")
	reg["address"] = pop["household_address"]
	out := []Entry{{"licence.household_register", personSubject(p.id), reg}}
	if p.age < 16 {
		return out
	}
	// The card in hand was issued at the last renewal: at 16, 26 or 46.
	issuedAge, years := 16, 10
	switch {
	case p.age >= 46:
		issuedAge, years = 46, 0
	case p.age >= 26:
		issuedAge, years = 26, 20
	}
	issued := p.birth.AddDate(issuedAge, 0, 0)
	var expires time.Time
	if years > 0 {
		expires = issued.AddDate(years, 0, 0)
	}
	card := licence("resident_id_card", p.id, p, issuerPolice, issued, expires, "valid")
	card["address"] = pop["household_address"]
	return append(out, Entry{"licence.resident_id_card", personSubject(p.id), card})
}

// Person returns person i's records, 0 <= i < Persons().
func (g *Generator) Person(i int) []Entry {
	if i < 0 || i >= g.persons {
		panic(fmt.Sprintf("demo: person %d of %d", i, g.persons))
	}
	me := g.core(i)
	var partner *person
	if j := i ^ 1; j < g.persons {
		p := g.core(j)
		partner = &p
	}
	m := i % 2 // my place in the pair
	var c couple
	if m == 0 {
		c = g.coupleOf(i/2, &me, partner)
	} else {
		c = g.coupleOf(i/2, partner, &me)
	}
	mine := g.holdingsOf(&me, c.dead[m], c.live[m])
	var theirs holdings
	if c.married {
		theirs = g.holdingsOf(partner, c.dead[1-m], c.live[1-m])
	}

	// The household: a couple shares one, registered under the woman's number.
	household := i
	if c.married {
		household = i &^ 1
	}
	addr := ""
	switch {
	case len(mine.homes) > 0 && (!c.married || m == 0 || len(theirs.homes) == 0):
		addr = mine.homes[0].addr
	case c.married && len(theirs.homes) > 0:
		addr = theirs.homes[0].addr
	default:
		addr, _, _ = g.address(g.rng(streamAddress, 2*household), c.live[m])
	}
	householdAddr := addr
	if c.home[m] != c.live[m] {
		householdAddr, _, _ = g.address(g.rng(streamAddress, 2*household+1), c.home[m])
	}

	r := g.rng(streamLife, i)
	gender := "female"
	if me.male {
		gender = "male"
	}
	ethnicity := "汉族"
	if chance(r, 0.08) {
		ethnicity = pick(r, ethnicities)
	}
	pop := hub.Record{
		"name": me.name, "id_number": me.id, "gender": gender, "birth_date": day(me.birth),
		"ethnicity": ethnicity, "parents_ethnicity": ethnicity,
		"address": addr, "phone": phone(r),
		"household": strconv.Itoa(100000000 + household), "household_address": householdAddr,
		"household_region": communities[c.home[m]].code, "household_status": "normal", "residence_region": communities[c.live[m]].code,
		"marital_status": c.status[m], "children_count": c.children[m],
		"alive": !c.dead[m], "no_criminal_record": me.age < 18 || !chance(r, 0.015), "drug_record": me.age >= 16 && chance(r, 0.002),
	}
	if c.married {
		pop["spouse_name"], pop["spouse_id_number"] = partner.name, partner.id
	}
	if me.age < 18 {
		pop["birth_event"] = "CSDJ" + me.id[6:17]
	}
	out := []Entry{{"population", personSubject(me.id), pop}}
	if !c.dead[m] {
		out = append(out, g.identityDocuments(&me, pop)...)
	}
	if c.dead[m] {
		pop["death_date"] = day(c.died[m])
		pop["household_status"] = "cancelled"
		return out
	}
	if me.age < 18 {
		return out
	}
	add := func(source string, rec hub.Record) {
		if rec != nil {
			out = append(out, Entry{source, personSubject(me.id), rec})
		}
	}
	add("credit", creditRecord(r))
	edu, grad, gradCert := g.education(r, &me)
	add("education", edu)
	add("licence.graduation_certificate", gradCert)
	veh, drv := g.vehicle(r, &me)
	add("vehicle", veh)
	add("licence.driving_licence", drv)
	if mine.record {
		prop, cert := g.property(r, &me, mine, theirs, c.married && !c.dead[1-m])
		add("property", prop)
		add("licence.real_estate_certificate", cert)
	}
	add("social_insurance", g.socialInsurance(r, &me, grad))
	return out
}

func phone(r *rand.Rand) string {
	return pick(r, phonePrefixes) + strconv.Itoa(100000000 + r.IntN(100000000))[1:]
}

// creditRecord: mostly A and B; about 1% on the blacklist, level D.
// goodCredit is a clean credit record.
func goodCredit() hub.Record {
	return hub.Record{"level": "A", "blacklisted": false, "records": 0, "dishonest_judgment_debtor": false}
}

func creditRecord(r *rand.Rand) hub.Record {
	if chance(r, 0.01) {
		return hub.Record{"level": "D", "blacklisted": true, "records": 1 + r.IntN(4), "dishonest_judgment_debtor": chance(r, 0.6)}
	}
	level, records := "A", 0
	switch u := r.Float64(); {
	case u < 0.62:
	case u < 0.91:
		level = "B"
	case u < 0.985:
		level, records = "C", r.IntN(2)
	default:
		level, records = "D", 1+r.IntN(2)
	}
	return hub.Record{"level": level, "blacklisted": false, "records": records, "dishonest_judgment_debtor": false}
}

var (
	gradAge    = map[string]int{"associate": 21, "bachelor": 22, "master": 25, "doctor": 29}
	lower      = map[string]string{"doctor": "master", "master": "bachelor", "bachelor": "associate"}
	degreeOf   = map[string]string{"bachelor": "学士", "master": "硕士", "doctor": "博士"}
	levelDigit = map[string]int{"doctor": 1, "master": 2, "bachelor": 5, "associate": 6}
)

// education: students of 18–21, graduates mostly among 22–40. The returned
// time is the graduation date (zero if none).
func (g *Generator) education(r *rand.Rand, p *person) (hub.Record, time.Time, hub.Record) {
	share := 0.1
	switch {
	case p.age <= 21:
		if !chance(r, 0.45) {
			return nil, time.Time{}, nil
		}
		level := "bachelor"
		if chance(r, 0.3) {
			level = "associate"
		}
		return hub.Record{"school": schoolFor(r, level).name, "level": level, "full_time": true, "enrolled": true}, time.Time{}, nil
	case p.age <= 40:
		share = 0.72
	case p.age <= 60:
		share = 0.35
	}
	if !chance(r, share) {
		return nil, time.Time{}, nil
	}
	level := "associate"
	switch u := r.Float64(); {
	case p.age <= 40 && u < 0.5, p.age > 40 && u < 0.45:
		level = "bachelor"
	case p.age <= 40 && u < 0.66, p.age > 40 && u < 0.53:
		level = "master"
	case p.age <= 40 && u < 0.70, p.age > 40 && u < 0.55:
		level = "doctor"
	}
	extra := r.IntN(3)
	if level == "doctor" {
		extra = r.IntN(5)
	}
	for gradAge[level]+extra > p.age {
		if extra > 0 {
			extra--
		} else {
			level = lower[level]
		}
	}
	year := p.birth.Year() + gradAge[level] + extra
	graduated := time.Date(year, 6, 20+r.IntN(15), 0, 0, 0, 0, time.UTC)
	if !graduated.Before(g.today) {
		graduated = graduated.AddDate(-1, 0, 0)
	}
	s := schoolFor(r, level)
	fullTime := chance(r, 0.9)
	if p.age > 40 {
		fullTime = chance(r, 0.75)
	}
	edu, lic := graduate(p, s, level, graduated, fullTime)
	return edu, graduated, lic
}

// graduate returns the education record and graduation certificate of p.
func graduate(p *person, s school, level string, graduated time.Time, fullTime bool) (hub.Record, hub.Record) {
	cert := fmt.Sprintf("%05d%04d%02d%07d", s.code, graduated.Year(), levelDigit[level], max(p.i, 0)%10000000)
	edu := hub.Record{
		"school": s.name, "level": level, "graduation_date": day(graduated), "graduation_year": graduated.Year(),
		"full_time": fullTime, "enrolled": false, "graduation_certificate_number": cert,
	}
	if d, ok := degreeOf[level]; ok {
		edu["degree"] = d
	}
	lic := licence("graduation_certificate", cert, p, s.name, graduated, time.Time{}, "valid")
	lic["school"], lic["level"], lic["graduation_date"] = s.name, level, day(graduated)
	return edu, lic
}

func schoolFor(r *rand.Rand, level string) school {
	if level == "associate" {
		return pick(r, colleges)
	}
	for {
		s := pick(r, universities)
		if level == "bachelor" || s.top == "doctor" {
			return s
		}
	}
}

// vehicle: a share of adults drive, licensed after their 18th birthday.
func (g *Generator) vehicle(r *rand.Rand, p *person) (hub.Record, hub.Record) {
	share := 0.15
	switch {
	case p.age <= 24:
		share = 0.25
	case p.age <= 50:
		share = 0.5
	case p.age <= 65:
		share = 0.35
	}
	if !chance(r, share) {
		return nil, nil
	}
	adult := p.birth.AddDate(18, 0, 0)
	licensed := p.birth.AddDate(18+int(r.ExpFloat64()*6), 0, r.IntN(365))
	if !licensed.Before(g.today) {
		span := int(g.today.Sub(adult).Hours()/24) - 1
		licensed = adult.AddDate(0, 0, r.IntN(max(1, span)))
	}
	points := func() int {
		switch u := r.Float64(); {
		case u < 0.7:
			return 0
		case u < 0.95:
			return 1 + r.IntN(6)
		case u < 0.99:
			return 7 + r.IntN(5)
		}
		return 12
	}
	class := "C1"
	switch u := r.Float64(); {
	case u < 0.10:
		class = "C2"
	case u < 0.13 && p.age >= 24:
		class = "B2"
	case u < 0.15 && p.age >= 26:
		class = "A2"
	}
	veh, drv := g.driving(p, licensed, class, points(), points)
	if chance(r, 0.15) {
		veh["offences"] = 1 + r.IntN(3)
	}
	veh["drink_driving_record"] = chance(r, 0.004)
	if chance(r, 0.015) {
		vin := vin(r)
		veh["pending_count"], veh["pending_vin"], veh["pending_vins"] = 1, vin, []string{vin}
	}
	return veh, drv
}

// driving returns the vehicle record and driving licence of p, licensed on
// the given day, with current points this cycle and past giving the points
// of each earlier cycle, the latest first. Twelve points suspend a licence.
func (g *Generator) driving(p *person, licensed time.Time, class string, current int, past func() int) (hub.Record, hub.Record) {
	years := ident.Person{BirthDate: licensed}.AgeOn(g.today)
	history, full := []string{}, 0
	for k := 1; k <= 3 && years-k >= 0; k++ {
		from, to := licensed.AddDate(years-k, 0, 0), licensed.AddDate(years-k+1, 0, -1)
		n := past()
		if n == 12 {
			full++
		}
		history = append(history, day(from)+"~"+day(to)+":"+strconv.Itoa(n))
	}
	status := "valid"
	if current == 12 {
		status = "suspended"
	}
	veh := hub.Record{
		"licence_date": day(licensed), "driving_years": years, "licence_status": status,
		"points_current_cycle": current, "points_history": history, "full_points_last_3_periods": full,
		"offences": 0, "drink_driving_record": false, "pending_count": 0, "pending_vins": []string{},
	}
	// Six years, then ten, then for life.
	issued, expires := licensed, licensed.AddDate(6, 0, 0)
	switch {
	case years >= 16:
		issued, expires = licensed.AddDate(16, 0, 0), time.Time{}
	case years >= 6:
		issued, expires = licensed.AddDate(6, 0, 0), licensed.AddDate(16, 0, 0)
	}
	drv := licence("driving_licence", p.id, p, issuerTraffic, issued, expires, status)
	drv["class"], drv["first_issued_on"] = class, day(licensed)
	return veh, drv
}

// vinChars are the characters of a vehicle identification number (no I, O, Q).
const vinChars = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

// vin makes a vehicle identification number with a valid check digit
// (ISO 3779: letters transliterated, positions weighted, sum mod 11).
func vin(r *rand.Rand) string {
	b := []byte("LDM")
	for len(b) < 17 {
		b = append(b, vinChars[r.IntN(len(vinChars))])
	}
	weights := [17]int{8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2}
	sum := 0
	for k, c := range b {
		sum += vinValue(c) * weights[k]
	}
	b[8] = "0123456789X"[sum%11]
	return string(b)
}

func vinValue(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	return int("12345678.12345.7.923456789"[c-'A'] - '0') // A–Z; I, O and Q never occur
}

// property: the person's homes; a couple's family count adds the spouse's.
func (g *Generator) property(r *rand.Rand, p *person, mine, spouse holdings, withSpouse bool) (hub.Record, hub.Record) {
	certs, mortgaged, sealed := []string{}, []string{}, []string{}
	for _, h := range mine.homes {
		certs = append(certs, h.cert)
	}
	family := len(mine.homes)
	if withSpouse {
		family += len(spouse.homes)
	}
	rec := hub.Record{
		"owner": p.name, "certificate_numbers": certs, "housing_count": len(mine.homes), "family_housing_count": family,
		"pending_transfer": false,
	}
	if len(mine.homes) == 0 {
		rec["mortgaged_certificate_numbers"], rec["sealed_certificate_numbers"] = mortgaged, sealed
		return rec, nil
	}
	first := mine.homes[0]
	rec["address"], rec["area"] = first.addr, first.area
	if p.age < 55 && chance(r, 0.35) {
		mortgaged = append(mortgaged, first.cert)
	}
	if chance(r, 0.003) {
		sealed = append(sealed, certs[len(certs)-1])
	}
	rec["mortgaged_certificate_numbers"], rec["sealed_certificate_numbers"] = mortgaged, sealed
	if chance(r, 0.01) {
		rec["pending_transfer"] = true
		rec["contract_filing_number"] = fmt.Sprintf("WQ%d%08d", g.today.Year(), r.IntN(100000000))
	}
	cert := licence("real_estate_certificate", first.cert, p, issuerRealEstate, first.issued, time.Time{}, "valid")
	cert["certificate_number"], cert["address"], cert["area"], cert["unit_number"], cert["usage"] = first.cert, first.addr, first.area, first.unit, "住宅"
	return rec, cert
}

// socialInsurance: employees contribute through a generated enterprise;
// those of 60 and over draw a pension.
func (g *Generator) socialInsurance(r *rand.Rand, p *person, graduated time.Time) hub.Record {
	card := "6217" + strconv.FormatInt(1_000_000_000_000_000+r.Int64N(1_000_000_000_000_000), 10)[1:]
	base := hub.Record{"card_bank_account": card, "card_status": "active", "monthly_contributions": []string{}, "employee_pension_active": false}
	if p.age >= 60 {
		if !chance(r, 0.8) {
			return nil
		}
		base["months_contributed"] = min((p.age-18)*12, 180+r.IntN(300))
		return base
	}
	rate := 0.75
	switch {
	case p.age <= 21:
		rate = 0.15
	case p.age <= 29 && !graduated.IsZero():
		rate = 0.88
	case p.age <= 29:
		rate = 0.8
	case p.age >= 55:
		rate = 0.55
	}
	if !chance(r, rate) {
		if p.age < 23 || !chance(r, 0.3) {
			return nil
		}
		base["months_contributed"] = 1 + r.IntN((p.age-22)*12+1)
		return base
	}
	start := p.birth.AddDate(18+r.IntN(5), r.IntN(12), 0)
	if !graduated.IsZero() {
		start = graduated.AddDate(0, 1+r.IntN(3), 0)
	}
	thisMonth := time.Date(g.today.Year(), g.today.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !start.Before(thisMonth) {
		start = thisMonth.AddDate(0, -1, 0)
	}
	months := (thisMonth.Year()-start.Year())*12 + int(thisMonth.Month()-start.Month())
	months = max(1, int(float64(months)*(0.85+0.15*r.Float64())))
	code, name := g.employer(r)
	g.employed(base, start, months, code, name)
	return base
}

// employed fills in an employee's contributions: months in all since start,
// the latest (up to twelve) month by month until last month.
func (g *Generator) employed(rec hub.Record, start time.Time, months int, code, name string) {
	recent := slices.Clone(g.lastMonths[12-min(12, months):])
	rec["months_contributed"] = months
	rec["monthly_contributions"] = recent
	rec["employee_pension_active"] = true
	rec["employer_credit_code"], rec["employer_name"] = code, name
	rec["employment_history"] = fmt.Sprintf("%s起 %s", start.Format("2006-01"), name)
	rec["employer_contributions"] = "正常缴费"
}

// employer picks an active generated enterprise, or the demo company.
func (g *Generator) employer(r *rand.Rand) (string, string) {
	for range 8 {
		if g.enterprises == 0 {
			break
		}
		e := g.enterpriseCore(r.IntN(g.enterprises))
		if e.status == "active" {
			return e.code, e.name
		}
	}
	return DemoCompany, demoCompanyName
}

// firm is who a generated enterprise is.
type firm struct {
	code, name, status string
	industry           industry
}

// enterpriseCore works out enterprise j's credit code, name and status.
func (g *Generator) enterpriseCore(j int) firm {
	f := firm{code: g.creditCode(j)}

	// Names: a bijection of j onto prefix × trade name × industry, so that
	// names repeat only beyond nameSpace enterprises.
	n := (j*g.nameStep + int(g.seed%uint64(g.nameSpace))) % g.nameSpace
	prefix := cityDistrict
	if n%2 == 1 {
		prefix = "示范市"
	}
	n /= 2
	f.industry = industries[n%len(industries)]
	n /= len(industries)
	two := len(tradeFirst) * len(tradeSecond)
	trade := string(tradeFirst[n%len(tradeFirst)]) + string(tradeSecond[(n/len(tradeFirst))%len(tradeSecond)])
	if n >= two {
		n -= two
		trade = string(tradeFirst[n%len(tradeFirst)]) + string(tradeSecond[(n/len(tradeFirst))%len(tradeSecond)]) + string(tradeThird[n/two])
	}
	f.name = prefix + trade + f.industry.word + "有限公司"

	r := g.rng(streamEnterpriseCore, j)
	switch u := r.Float64(); {
	case u < 0.90:
		f.status = "active"
	case u < 0.94:
		f.status = "revoked"
	default:
		f.status = "cancelled"
	}
	return f
}

// creditCode is enterprise j's unified social credit code: 91 (an
// enterprise registered with market regulation) + the district + "MA6" +
// six characters scattering j, + the check character; the demo company's
// code has MA5 and so is never one of them.
func (g *Generator) creditCode(j int) string {
	const space = 31 * 31 * 31 * 31 * 31 * 31
	v := (uint64(j)*7919 + 12345 + g.seed%space) % space
	var b [18]byte
	copy(b[:], "91910102MA6")
	for k := 16; k >= 11; k-- {
		b[k] = creditCodeChars[v%31]
		v /= 31
	}
	c, err := ident.CreditCodeCheck(string(b[:17]))
	if err != nil {
		panic(err)
	}
	b[17] = c
	return string(b[:])
}

// creditCodeChars are GB 32100's 31 characters in value order.
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// alive reports whether person i is alive, which depends on the pair.
func (g *Generator) alive(i int) bool {
	me := g.core(i)
	if me.age < 65 {
		return true
	}
	var partner *person
	if j := i ^ 1; j < g.persons {
		p := g.core(j)
		partner = &p
	}
	var c couple
	if i%2 == 0 {
		c = g.coupleOf(i/2, &me, partner)
	} else {
		c = g.coupleOf(i/2, partner, &me)
	}
	return !c.dead[i%2]
}

// adult picks a living generated person of at least minAge, or Zhang San
// when there are none to pick from.
func (g *Generator) adult(r *rand.Rand, minAge int) person {
	for range 16 {
		if g.persons == 0 {
			break
		}
		i := r.IntN(g.persons)
		if p := g.core(i); p.age >= minAge && g.alive(i) {
			return p
		}
	}
	return g.demoPerson(ZhangSan, "张三")
}

// Enterprise returns enterprise j's records, 0 <= j < Enterprises().
func (g *Generator) Enterprise(j int) []Entry {
	if j < 0 || j >= g.enterprises {
		panic(fmt.Sprintf("demo: enterprise %d of %d", j, g.enterprises))
	}
	f := g.enterpriseCore(j)
	r := g.rng(streamEnterprise, j)
	rep := g.adult(r, 22)
	earliest := rep.birth.AddDate(20, 0, 0)
	established := g.today.AddDate(0, 0, -1-int(30*365*math.Pow(r.Float64(), 2)))
	if established.Before(earliest) {
		span := int(g.today.Sub(earliest).Hours()/24) - 1
		established = earliest.AddDate(0, 0, r.IntN(max(1, span)))
	}
	total := 0
	for _, c := range capitals {
		total += c.weight
	}
	n, capital := r.IntN(total), 0.0
	for _, c := range capitals {
		if n < c.weight {
			capital = c.amount
			break
		}
		n -= c.weight
	}
	cm := communities[r.IntN(len(communities))]
	addr := fmt.Sprintf("%s%s%s%d号%s%d层%d室", cityDistrict, cm.street, pick(r, roads), 1+r.IntN(300), pick(r, officeBuildings), 1+r.IntN(30), (1+r.IntN(30))*100+1+r.IntN(20))
	agents := []string{}
	for range r.IntN(3) {
		agents = append(agents, g.adult(r, 18).id)
	}
	taxOfficer := rep.id
	if chance(r, 0.5) {
		taxOfficer = g.adult(r, 18).id
	}
	active := f.status == "active"
	ent := hub.Record{
		"name": f.name, "credit_code": f.code, "status": f.status, "legal_rep": rep.name, "legal_rep_id_number": rep.id,
		"address": addr, "business_scope": f.industry.scope, "registered_capital": capital, "established_on": day(established),
		"contact_phone": phone(r),
		"registration_summary": fmt.Sprintf("有限责任公司（自然人投资或控股）；成立日期%s；注册资本%g万元人民币；法定代表人%s；登记机关%s",
			day(established), capital, rep.name, issuerMarket),
		"agent_id_numbers": agents, "tax_officer_id_numbers": []string{taxOfficer},
		"has_basic_account": active && chance(r, 0.97), "housing_fund_registered": active && chance(r, 0.55),
		"open_enforcement_case": chance(r, 0.02),
	}
	status := "valid"
	if !active {
		status = f.status
	}
	var expires time.Time
	if chance(r, 0.3) {
		expires = established.AddDate(20, 0, -1)
	}
	holder := person{name: f.name, id: f.code}
	lic := licence("business_licence", f.code, &holder, issuerMarket, established, expires, status)
	for _, k := range []string{"name", "credit_code", "address", "legal_rep", "registered_capital", "established_on", "business_scope"} {
		lic[k] = ent[k]
	}
	lic["company_type"] = "有限责任公司（自然人投资或控股）"
	subject := hub.Subject{Kind: hub.Enterprise, Key: f.code}
	// Every enterprise has a credit record (good: the platform writes the
	// bad ones), which its applications' rules read.
	return []Entry{{"enterprise", subject, ent}, {"licence.business_licence", subject, lic}, {"credit", subject, goodCredit()}}
}

// thousands writes n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for k, c := range s {
		if k > 0 && (len(s)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// demoCompanyName is the demo company's name, as SeedAccounts registers it.
const demoCompanyName = "示范科技有限公司（演示）"

// demoPerson is a demo person as the generator sees them.
func (g *Generator) demoPerson(id, name string) person {
	p, err := ident.ParseIDNumber(id)
	if err != nil {
		panic(err) // the demo ID numbers are constants
	}
	return person{i: -1, id: id, name: name, male: p.Sex == "male", birth: p.BirthDate, age: p.AgeOn(g.today)}
}

// Demo returns the records of the demo people and company, fitting their
// parts in the demo: Zhang San (66) is the company's legal representative
// and owns one home; Li Si graduated within the last year, drives and works
// for the company; Wang Wu owns no home. All three have credit level A.
func (g *Generator) Demo() []Entry {
	zhang, li, wang := g.demoPerson(ZhangSan, "张三"), g.demoPerson(LiSi, "李四"), g.demoPerson(WangWu, "王五")
	var out []Entry
	add := func(p *person, source string, rec hub.Record) {
		out = append(out, Entry{source, personSubject(p.id), rec})
	}
	population := func(p *person, phone, household string, c int, addr, marital string, children int) hub.Record {
		gender := "female"
		if p.male {
			gender = "male"
		}
		cm := communities[c]
		return hub.Record{
			"name": p.name, "id_number": p.id, "gender": gender, "birth_date": day(p.birth), "ethnicity": "汉族", "parents_ethnicity": "汉族",
			"address": cityDistrict + cm.street + cm.name + " " + addr, "phone": phone, "household": household,
			"household_address": cityDistrict + cm.street + cm.name + " " + addr, "household_region": cm.code, "household_status": "normal",
			"residence_region": cm.code, "marital_status": marital, "children_count": children,
			"alive": true, "no_criminal_record": true, "drug_record": false,
		}
	}
	addPopulation := func(p *person, pop hub.Record) {
		add(p, "population", pop)
		out = append(out, g.identityDocuments(p, pop)...)
	}
	noPoints := func() int { return 0 }
	card := func(n string) hub.Record {
		return hub.Record{"card_bank_account": "621700000000000000" + n, "card_status": "active", "monthly_contributions": []string{}, "employee_pension_active": false}
	}
	noHome := func(p *person) hub.Record {
		return hub.Record{"owner": p.name, "certificate_numbers": []string{}, "housing_count": 0, "family_housing_count": 0,
			"mortgaged_certificate_numbers": []string{}, "sealed_certificate_numbers": []string{}, "pending_transfer": false}
	}

	// Zhang San: retired, widowed, one home in 福安社区.
	zp := population(&zhang, "13800000001", "200000001", 0, "幸福路88号锦绣花园3栋1204", "widowed", 1)
	addPopulation(&zhang, zp)
	add(&zhang, "credit", goodCredit())
	const zhangCert = "示（2008）示范市不动产权第90000001号"
	home := zp["address"].(string)
	add(&zhang, "property", hub.Record{"owner": zhang.name, "address": home, "area": 96.5, "certificate_numbers": []string{zhangCert},
		"housing_count": 1, "family_housing_count": 1, "mortgaged_certificate_numbers": []string{}, "sealed_certificate_numbers": []string{},
		"pending_transfer": false})
	cert := licence("real_estate_certificate", zhangCert, &zhang, issuerRealEstate, time.Date(2008, 9, 12, 0, 0, 0, 0, time.UTC), time.Time{}, "valid")
	cert["certificate_number"], cert["address"], cert["area"], cert["unit_number"], cert["usage"] = zhangCert, home, 96.5, "910102001001GB00088F00031204", "住宅"
	add(&zhang, "licence.real_estate_certificate", cert)
	pension := card("1")
	pension["months_contributed"] = 420
	add(&zhang, "social_insurance", pension)
	veh, drv := g.driving(&zhang, time.Date(1990, 5, 20, 0, 0, 0, 0, time.UTC), "C1", 0, noPoints)
	add(&zhang, "vehicle", veh)
	add(&zhang, "licence.driving_licence", drv)

	// Li Si: a master's graduate of this summer (or last, before July),
	// working for the demo company, a driver, renting in 华强北社区.
	addPopulation(&li, population(&li, "13800000002", "200000002", 2, "华强路16号丽景华庭5栋802", "single", 0))
	add(&li, "credit", goodCredit())
	graduated := time.Date(g.today.Year(), 6, 30, 0, 0, 0, 0, time.UTC)
	if !graduated.Before(g.today) {
		graduated = graduated.AddDate(-1, 0, 0)
	}
	edu, diploma := graduate(&li, universities[0], "master", graduated, true)
	add(&li, "education", edu)
	add(&li, "licence.graduation_certificate", diploma)
	veh, drv = g.driving(&li, time.Date(2016, 9, 12, 0, 0, 0, 0, time.UTC), "C1", 0, noPoints)
	add(&li, "vehicle", veh)
	add(&li, "licence.driving_licence", drv)
	work := card("2")
	start := graduated.AddDate(0, 0, 2)
	thisMonth := time.Date(g.today.Year(), g.today.Month(), 1, 0, 0, 0, 0, time.UTC)
	g.employed(work, start, max(1, (thisMonth.Year()-start.Year())*12+int(thisMonth.Month()-start.Month())), DemoCompany, demoCompanyName)
	add(&li, "social_insurance", work)
	add(&li, "property", noHome(&li))

	// Wang Wu: owns no home (for 无房证明), a bachelor of 2010, employed.
	addPopulation(&wang, population(&wang, "13800000003", "200000003", 1, "新洲路201号和谐小区2栋601", "single", 0))
	add(&wang, "credit", goodCredit())
	add(&wang, "property", noHome(&wang))
	edu, diploma = graduate(&wang, universities[1], "bachelor", time.Date(2010, 6, 30, 0, 0, 0, 0, time.UTC), true)
	add(&wang, "education", edu)
	add(&wang, "licence.graduation_certificate", diploma)
	work = card("3")
	g.employed(work, time.Date(2010, 8, 1, 0, 0, 0, 0, time.UTC), 180, DemoCompany, demoCompanyName)
	add(&wang, "social_insurance", work)

	// The demo company: Zhang San its legal representative, Li Si its agent.
	established := time.Date(2015, 6, 18, 0, 0, 0, 0, time.UTC)
	addr := cityDistrict + "福安街道科技路16号创新大厦12层1203室"
	ent := hub.Record{
		"name": demoCompanyName, "credit_code": DemoCompany, "status": "active", "legal_rep": zhang.name, "legal_rep_id_number": zhang.id,
		"address": addr, "business_scope": industries[0].scope, "registered_capital": 500.0, "established_on": day(established),
		"contact_phone": "13800000001", "agent_id_numbers": []string{li.id}, "tax_officer_id_numbers": []string{li.id},
		"has_basic_account": true, "housing_fund_registered": true, "open_enforcement_case": false,
		"registration_summary": "有限责任公司（自然人投资或控股）；成立日期" + day(established) + "；注册资本500万元人民币；法定代表人张三；登记机关" + issuerMarket,
	}
	holder := person{name: demoCompanyName, id: DemoCompany}
	lic := licence("business_licence", DemoCompany, &holder, issuerMarket, established, time.Time{}, "valid")
	for _, k := range []string{"name", "credit_code", "address", "legal_rep", "registered_capital", "established_on", "business_scope"} {
		lic[k] = ent[k]
	}
	lic["company_type"] = "有限责任公司（自然人投资或控股）"
	subject := hub.Subject{Kind: hub.Enterprise, Key: DemoCompany}
	return append(out, Entry{"enterprise", subject, ent}, Entry{"licence.business_licence", subject, lic}, Entry{"credit", subject, goodCredit()})
}

// Stats says what a generation wrote.
type Stats struct {
	Persons, Enterprises int            // generated, not counting the demo people and company
	Records              map[string]int // rows written, by source
	Elapsed              time.Duration
}

// Total is the number of rows written.
func (s Stats) Total() int { return total(s.Records) }

// total adds up counts.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// SeedRegistries fills the built-in registries with the records of persons
// and enterprises generated from seed, ages counted from today, and those of
// the demo people and company (see Generator and Demo). Records already
// there are replaced, so running it again changes nothing but the
// encryption. progress, if not nil, is called on the calling goroutine as
// subjects are written; done and total count persons and enterprises.
func SeedRegistries(ctx context.Context, db *store.DB, b *hub.Builtin, persons, enterprises int, seed uint64, progress func(done, total int)) (Stats, error) {
	g, err := NewGenerator(persons, enterprises, seed, time.Now())
	if err != nil {
		return Stats{}, err
	}
	return g.Write(ctx, db, b, progress)
}

// chunk is how many subjects a worker makes and seals at a time.
const chunk = 256

// rowsPerTx is how many rows one transaction writes. A transaction's
// changed pages fit in the writer's page cache (below), so none is written
// to the log before the commit and read back and written again after it:
// at 100,000 persons, 20,000 rows a transaction wrote 21% fewer pages and
// read 45% fewer than 100,000 did, in less than half the memory.
const rowsPerTx = 20_000

// settleEvery is how many transactions the writer commits before it waits
// for the checkpointer to catch up, so that the write-ahead log starts
// again from its beginning rather than growing with the whole load.
const settleEvery = 4

// rowsPerInsert is how many rows one INSERT carries: four parameters each,
// well under SQLite's limit of 32,766.
const rowsPerInsert = 1000

// batch is sealed rows of some subjects, or the error that stopped them;
// seq is the chunk they were made for.
type batch struct {
	rows     []hub.SealedRecord
	subjects int
	seq      int
	err      error
}

// Write makes, seals and stores every record of the generator, as
// SeedRegistries does. Making and sealing (AES-GCM and an HMAC per record)
// runs on one goroutine per CPU but one; one writer, on the calling
// goroutine, inserts the rows in large transactions while the next are
// being made, and on SQLite a checkpointer copies them from the log into
// the database. The CPU left to those two is what makes the load fast: at
// 300,000 persons on two CPUs, one sealing goroutine took 13.3-14.2 s where
// two took 15.0-17.8 s, as the writer waited for a CPU.
//
// Subjects are made in the order of their blind index, which is the key of
// their rows, so that each source's rows arrive in key order: every insert
// lands next to the one before in the primary-key index, and each page of it
// is written about once. (In the order of the subjects' numbers the keys are
// random, and every transaction rewrote most of the index: four-fifths of
// the time went in writing it to the write-ahead log and back.)
func (g *Generator) Write(ctx context.Context, db *store.DB, b *hub.Builtin, progress func(done, total int)) (Stats, error) {
	began := time.Now()
	stats := Stats{Persons: g.persons, Enterprises: g.enterprises, Records: map[string]int{}}
	total := g.enterprises + g.persons
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if progress != nil {
		progress(0, total)
	}
	order, err := g.order(ctx, b)
	if err != nil {
		return stats, err
	}
	chunks := 1 + (total+chunk-1)/chunk // the demo records, then the subjects'

	// A chunk: 0 for the demo records, k for order[(k-1)*chunk:k*chunk].
	sealed := fanOut(ctx, chunks, func() func(k int) batch {
		sealer := b.NewSealer()
		var buf []byte
		return func(k int) batch {
			res := batch{seq: k}
			res.rows, res.subjects, res.err = g.seal(sealer, &buf, order, k)
			return res
		}
	})

	// The collector puts the chunks back in order and gathers a
	// transaction's worth of rows while the writer writes the previous one.
	txs := make(chan batch)
	go func() {
		defer close(txs)
		size := min(rowsPerTx+16*chunk, 6*g.persons+2*g.enterprises+64) // about 5 rows a person
		fresh := func() batch { return batch{rows: make([]hub.SealedRecord, 0, size)} }
		cur := fresh()
		send := func() bool {
			select {
			case txs <- cur:
				cur = fresh()
				return true
			case <-ctx.Done():
				return false
			}
		}
		early := map[int]batch{} // chunks made before one due earlier
		next := 0
		for res := range sealed {
			if res.err != nil {
				cur = res
				send()
				return
			}
			early[res.seq] = res
			for {
				res, ok := early[next]
				if !ok {
					break
				}
				delete(early, next)
				next++
				cur.rows = append(cur.rows, res.rows...)
				cur.subjects += res.subjects
				if len(cur.rows) >= rowsPerTx && !send() {
					return
				}
			}
		}
		if len(cur.rows) > 0 {
			send()
		}
	}()

	fail := func(w *writer, err error) (Stats, error) {
		cancel()
		for range txs {
		}
		if w != nil {
			w.close(false)
		}
		return stats, err
	}
	w, err := newWriter(ctx, db)
	if err != nil {
		return fail(nil, err)
	}
	done := 0
	for tx := range txs {
		if tx.err != nil {
			return fail(w, tx.err)
		}
		err := w.write(ctx, tx.rows, func(written int) {
			if progress != nil {
				progress(done+tx.subjects*written/len(tx.rows), total)
			}
		})
		if err != nil {
			return fail(w, err)
		}
		done += tx.subjects
		for _, row := range tx.rows {
			stats.Records[row.Source]++
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(w, err)
	}
	if err := w.close(true); err != nil {
		return stats, err
	}
	stats.Elapsed = time.Since(began)
	return stats, nil
}

// fanOut makes chunks 0 to chunks-1 on one goroutine per CPU but one (see
// Write), each goroutine with a maker of its own from newMaker (scratch
// space, a sealer), and sends what they make, in any order, on the channel
// it returns, which is closed once all are made or ctx ends.
func fanOut[T any](ctx context.Context, chunks int, newMaker func() func(k int) T) <-chan T {
	jobs := make(chan int)
	made := make(chan T, 8)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)-1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			maker := newMaker()
			for k := range jobs {
				select {
				case made <- maker(k):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for k := range chunks {
			select {
			case jobs <- k:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(made) }()
	return made
}

// order returns the numbers of the subjects (enterprises first, then
// persons) in the order of their blind index.
func (g *Generator) order(ctx context.Context, b *hub.Builtin) ([]int32, error) {
	type keyed struct {
		idx string
		n   int32
	}
	total := g.enterprises + g.persons
	keys := make([]keyed, total)
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := w * total / workers; s < (w+1)*total/workers; s++ {
				if s%4096 == 0 && ctx.Err() != nil {
					return
				}
				keys[s] = keyed{b.SubjectIndex(g.subject(s)), int32(s)}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b keyed) int { return strings.Compare(a.idx, b.idx) })
	order := make([]int32, total)
	for k, key := range keys {
		order[k] = key.n
	}
	return order, nil
}

// subject is who subject s is: enterprise s, or person s - Enterprises().
func (g *Generator) subject(s int) hub.Subject {
	if s < g.enterprises {
		return hub.Subject{Kind: hub.Enterprise, Key: g.creditCode(s)}
	}
	birth, seq := g.birthSeq(s - g.enterprises)
	return personSubject(idNumberOf(birth, seq))
}

// seal makes and seals the records of chunk k of the subjects in order, or
// the demo records for chunk 0, using buf as scratch.
func (g *Generator) seal(sealer *hub.Sealer, buf *[]byte, order []int32, k int) ([]hub.SealedRecord, int, error) {
	var entries []Entry
	n := 0
	if k == 0 {
		entries = g.Demo()
	} else {
		for _, s := range order[(k-1)*chunk : min(k*chunk, len(order))] {
			if int(s) < g.enterprises {
				entries = append(entries, g.Enterprise(int(s))...)
			} else {
				entries = append(entries, g.Person(int(s)-g.enterprises)...)
			}
			n++
		}
	}
	// The chunk's sealed data is made one string, which its rows share: a
	// string a row cost a tenth of the sealing time. (The rows of a chunk go
	// in the same transaction, so the string is not kept longer for it.)
	rows := make([]hub.SealedRecord, len(entries))
	ends := make([]int, len(entries))
	data := (*buf)[:0]
	for k, e := range entries {
		var err error
		rows[k].Source = e.Source
		if data, rows[k].SubjectIdx, err = sealer.AppendSeal(data, e.Source, e.Subject, e.Record); err != nil {
			return nil, 0, fmt.Errorf("a generated %s record does not fit the registry's schema (a bug in the generator): %w", e.Source, err)
		}
		ends[k] = len(data)
	}
	*buf = data
	all, start := string(data), 0
	for k := range rows {
		rows[k].Data = all[start:ends[k]]
		start = ends[k]
	}
	return rows, n, nil
}

// writer inserts sealed rows on one connection in multi-row statements.
type writer struct {
	backend store.Backend
	conn    *sql.Conn
	now     time.Time
	args    []any
	restore []string // SQLite: pragmas that put the connection back as it was
	ckpt    *checkpointer
	commits int
}

func newWriter(ctx context.Context, db *store.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the database to write demo data: %w", err)
	}
	w := &writer{backend: db.Backend, conn: conn, now: time.Now().UTC(), args: make([]any, 0, 4*rowsPerInsert)}
	if db.Backend == store.SQLite {
		// Rows arrive in key order (see Write), so the pages being filled
		// are few and a small cache holds them (with a transaction's worth
		// of new pages, see rowsPerTx); a larger one only costs: the
		// driver's allocator maps and unmaps each cached page on its own
		// (measured at 100,000 persons: 16 MiB takes 40% less of the
		// writer's CPU time than 256 MiB).
		//
		// Each multi-row INSERT keeps a statement journal (the pages it
		// changes, as they were, so that it alone can be undone on a
		// constraint error); in memory rather than in a temporary file it
		// costs no system calls. It is never needed after a crash: the
		// write-ahead log keeps the transactions whole.
		//
		// The checkpointer, not the writer, copies the log into the
		// database (see checkpointer).
		for _, p := range []struct{ name, value string }{
			{"cache_size", "-16384"}, // KiB: 16 MiB at most
			{"temp_store", "MEMORY"},
			{"wal_autocheckpoint", "0"},
		} {
			var was string
			if err := conn.QueryRowContext(ctx, `PRAGMA `+p.name).Scan(&was); err != nil {
				w.close(false)
				return nil, err
			}
			w.restore = append(w.restore, `PRAGMA `+p.name+` = `+was)
			if _, err := conn.ExecContext(ctx, `PRAGMA `+p.name+` = `+p.value); err != nil {
				w.close(false)
				return nil, err
			}
		}
		if w.ckpt, err = startCheckpointer(ctx, db); err != nil {
			w.close(false)
			return nil, err
		}
	}
	return w, nil
}

// A checkpointer copies committed pages from SQLite's write-ahead log into
// the database on a connection of its own while the writer writes the next
// transaction. Done by the committing writer, as SQLite does by default,
// checkpoints and the two fsyncs each makes stood in the writer's way: at
// 300,000 persons the writer spent 4 of its 18 seconds in fsync.
type checkpointer struct {
	conn *sql.Conn
	// commits takes a commit to copy. It is unbuffered, so a send succeeds
	// only when no checkpoint is running; the channel sent, if not nil,
	// gets the result of the checkpoint.
	commits chan chan error
	stopped chan error // the first error of a checkpoint nobody waited for
}

func startCheckpointer(ctx context.Context, db *store.DB) (*checkpointer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the database to checkpoint registry records: %w", err)
	}
	c := &checkpointer{conn: conn, commits: make(chan chan error), stopped: make(chan error, 1)}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	var unseen error
	for reply := range c.commits {
		// PASSIVE copies what no reader still needs and never waits for
		// readers, such as a running 'yiwang serve'.
		_, err := c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		if err != nil {
			err = fmt.Errorf("checkpoint registry records: %w", err)
		}
		if reply != nil {
			reply <- err
		} else if unseen == nil {
			unseen = err
		}
	}
	c.stopped <- errors.Join(unseen, c.conn.Close())
}

// committed tells the checkpointer of a commit: if wait, it waits for the
// log to be copied up to it; otherwise it starts a checkpoint unless one is
// running (the next covers this commit as well).
func (c *checkpointer) committed(wait bool) error {
	if !wait {
		select {
		case c.commits <- nil:
		default:
		}
		return nil
	}
	reply := make(chan error, 1)
	c.commits <- reply
	return <-reply
}

// stop copies what is left and stops the checkpointer.
func (c *checkpointer) stop() error {
	err := c.committed(true)
	close(c.commits)
	return errors.Join(err, <-c.stopped)
}

// insertSQL is the INSERT of n rows updated at now. SQLite gets anonymous ?
// parameters (it looks numbered ones, $2, up by name, in time growing with
// their number, for every one bound) and now as a literal, written as the
// driver writes times (store opens SQLite with _time_format=sqlite): the
// same for every row, it costs nothing to bind and format once a row.
// sqliteTime is how the SQLite driver writes a time.Time under
// _time_format=sqlite.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

func insertSQL(backend store.Backend, n int, now time.Time) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO registry_records (source, subject_idx, data, updated_at) VALUES `)
	row := "(?,?,?,'" + now.Format(sqliteTime) + "')"
	for k := range n {
		if k > 0 {
			b.WriteByte(',')
		}
		if backend == store.SQLite {
			b.WriteString(row)
		} else {
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d)", 4*k+1, 4*k+2, 4*k+3, 4*k+4)
		}
	}
	b.WriteString(` ON CONFLICT (source, subject_idx) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`)
	return b.String()
}

// write inserts rows in one transaction, telling written how many are in
// after each statement.
func (w *writer) write(ctx context.Context, rows []hub.SealedRecord, written func(int)) error {
	tx, err := w.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin writing registry records: %w", err)
	}
	defer tx.Rollback()
	full, err := tx.PrepareContext(ctx, insertSQL(w.backend, min(rowsPerInsert, len(rows)), w.now))
	if err != nil {
		return fmt.Errorf("prepare the registry insert: %w", err)
	}
	defer full.Close()
	for at := 0; at < len(rows); at += rowsPerInsert {
		part := rows[at:min(at+rowsPerInsert, len(rows))]
		args := w.args[:0]
		for _, r := range part {
			args = append(args, r.Source, r.SubjectIdx, r.Data)
			if w.backend != store.SQLite {
				args = append(args, w.now)
			}
		}
		if len(part) == rowsPerInsert || at == 0 {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(w.backend, len(part), w.now), args...)
		}
		if err != nil {
			return fmt.Errorf("write registry records: %w", err)
		}
		written(at + len(part))
	}
	if err := w.commit(tx); err != nil {
		return fmt.Errorf("commit registry records: %w", err)
	}
	return nil
}

// begin starts a transaction on the writer's connection.
func (w *writer) begin(ctx context.Context) (*sql.Tx, error) { return w.conn.BeginTx(ctx, nil) }

// commit commits tx and, on SQLite, has the checkpointer copy it into the
// database.
func (w *writer) commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return err
	}
	w.commits++
	if w.ckpt != nil {
		// Waiting now and then lets the log start again from its beginning
		// (SQLite does so when the writer begins with every page copied)
		// instead of growing as big as the load.
		return w.ckpt.committed(w.commits%settleEvery == 0)
	}
	return nil
}

// close gives the connection back, as it was, once the log is copied into
// the database and emptied.
func (w *writer) close(ok bool) error {
	var err error
	if w.ckpt != nil {
		err = w.ckpt.stop()
		if err == nil && ok {
			// Every page is copied, so this only cuts the log file to
			// nothing. It waits for readers still in the log (a server's
			// short reads) up to the busy timeout; after that the log is
			// left for SQLite to reuse.
			_, err = w.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
		}
	}
	for _, q := range w.restore {
		if _, rerr := w.conn.ExecContext(context.Background(), q); err == nil {
			err = rerr
		}
	}
	if cerr := w.conn.Close(); err == nil {
		err = cerr
	}
	if !ok {
		return nil
	}
	return err
}
