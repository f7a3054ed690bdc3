package catalog

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"yiwang/internal/hub"
	"yiwang/internal/ident"
)

// DataSources are the registries a form field or material may come from,
// as the data sharing hub (internal/hub) names them; "applicant" is the
// signed-in account.
var DataSources = []string{"applicant", "population", "enterprise", "licence", "education", "social_insurance", "property", "vehicle", "credit"}

// problem is a problem at ptr in s, in Chinese and English: two formats
// of the same arguments.
func (s Source) problem(ptr, zh, en string, args ...any) Problem {
	line, col := s.At(ptr)
	return Problem{File: s.File, Line: line, Col: col, Message: fmt.Sprintf(en, args...), Zh: fmt.Sprintf(zh, args...)}
}

// check runs the semantic checks that a schema cannot express: unique ids,
// references that resolve, departments and licence types that exist,
// situations that matter, limits that agree.
func (c *Catalogue) check() []Problem {
	var ps []Problem
	regions := map[string]bool{}
	for i, r := range c.Regions {
		ptr := "/regions/" + strconv.Itoa(i)
		if regions[r.Code] {
			ps = append(ps, c.deptSource.problem(ptr+"/code", "区划%s重复声明", "region %s is declared twice", r.Code))
		}
		if r.Parent != "" && !regions[r.Parent] {
			ps = append(ps, c.deptSource.problem(ptr+"/parent", "上级区划%s须在区划%s之前声明", "parent region %s must be declared before region %s", r.Parent, r.Code))
		}
		regions[r.Code] = true
	}
	depts := map[string]Department{}
	for i, d := range c.Departments {
		ptr := "/departments/" + strconv.Itoa(i)
		if _, dup := depts[d.Code]; dup {
			ps = append(ps, c.deptSource.problem(ptr+"/code", "部门%q重复声明", "department %q is declared twice", d.Code))
		}
		depts[d.Code] = d
		if err := ident.ValidateCreditCode(d.CreditCode); err != nil {
			ps = append(ps, c.deptSource.problem(ptr+"/credit_code", "部门%s的统一社会信用代码有误：%v", "credit code of %s: %v", d.Code, err))
		}
	}
	halls := map[string]bool{}
	for i, h := range c.Halls {
		ptr := "/halls/" + strconv.Itoa(i)
		if halls[h.Code] {
			ps = append(ps, c.deptSource.problem(ptr+"/code", "大厅%q重复声明", "hall %q is declared twice", h.Code))
		}
		halls[h.Code] = true
		if len(c.Regions) > 0 && !regions[h.Region] {
			ps = append(ps, c.deptSource.problem(ptr+"/region", "大厅所在区划%s未在regions中声明", "the hall's region %s is not declared under regions", h.Region))
		}
	}
	licences := map[string]LicenceType{}
	typeCodes := map[string]string{}
	for i, l := range c.Licences {
		ptr := "/licences/" + strconv.Itoa(i)
		if _, dup := licences[l.Code]; dup {
			ps = append(ps, c.licSource.problem(ptr+"/code", "证照类型%q重复声明", "licence type %q is declared twice", l.Code))
		}
		licences[l.Code] = l
		if _, ok := depts[l.Issuer]; !ok && l.Issuer != "external" && len(c.Departments) > 0 {
			ps = append(ps, c.licSource.problem(ptr+"/issuer", "发证部门%q不在departments.yaml中（也不是\"external\"）", "issuer %q is not a department in departments.yaml (or \"external\")", l.Issuer))
		}
		ps = append(ps, c.checkLicenceSpec(ptr, l, typeCodes)...)
	}
	codes := map[string]string{}
	for _, it := range c.Items {
		if other, dup := codes[it.Code]; dup {
			ps = append(ps, it.problem("/code", "事项编码%s已被%s使用", "item code %s is also used by %s", it.Code, other))
		}
		codes[it.Code] = it.File
		ps = append(ps, it.check(depts, licences)...)
		ps = append(ps, it.checkManualRoute(depts, halls)...)
	}
	return append(ps, c.checkBundles()...)
}

func (it *LoadedItem) check(depts map[string]Department, licences map[string]LicenceType) []Problem {
	var ps []Problem
	add := func(ptr, zh, en string, args ...any) { ps = append(ps, it.problem(ptr, zh, en, args...)) }

	// Code: body, kind, sequence.
	body, kindCode, _ := strings.Cut(it.Code, "-")
	kindCode, _, _ = strings.Cut(kindCode, "-")
	dept, deptOK := depts[it.Department]
	if !deptOK {
		add("/department", "部门%q未在departments.yaml中声明", "department %q is not declared in departments.yaml", it.Department)
	} else if body != dept.CreditCode {
		add("/code", "事项编码须以%s的统一社会信用代码（%s）开头，而不是%s", "the code must start with the credit code of %s (%s), not %s", it.Department, dept.CreditCode, body)
	}
	if err := ident.ValidateCreditCode(body); err != nil {
		add("/code", "事项编码中的实施主体部分不是有效的统一社会信用代码：%v", "the implementing body part of the code is not a valid credit code: %v", err)
	}
	if want := Kinds[it.Kind]; kindCode != want {
		add("/code", "事项编码中的类别部分是%s，但%s的类别代码是%s", "the kind part of the code is %s but %s has kind code %s", kindCode, it.Kind, want)
	}

	// Situations and the answers elements depend on.
	answers := map[string][]string{}
	for i, s := range it.Situations {
		ptr := "/situations/" + strconv.Itoa(i)
		if _, dup := answers[s.ID]; dup {
			add(ptr+"/id", "情形%q重复声明", "situation %q is declared twice", s.ID)
		}
		for j, a := range s.Answers {
			if slices.Contains(answers[s.ID], a.Value) {
				add(fmt.Sprintf("%s/answers/%d/value", ptr, j), "选项%q在情形%s中出现两次", "answer %q appears twice in situation %s", a.Value, s.ID)
			}
			answers[s.ID] = append(answers[s.ID], a.Value)
		}
	}
	used := map[string]bool{}
	checkWhen := func(ptr string, w When) {
		for sit, vals := range w {
			known, ok := answers[sit]
			if !ok {
				add(ptr+"/when/"+sit, "when引用的情形%q未在本事项中声明", "when refers to situation %q, which the item does not declare", sit)
				continue
			}
			used[sit] = true
			for _, v := range vals {
				if !slices.Contains(known, v) {
					add(ptr+"/when/"+sit, "情形%s没有选项%q（可选：%s）", "situation %s has no answer %q (answers: %s)", sit, v, strings.Join(known, ", "))
				}
			}
		}
	}

	// Form fields.
	fields := map[string]Field{}
	var checkFields func(ptr string, fs []Field, top bool)
	checkFields = func(ptr string, fs []Field, top bool) {
		seen := map[string]bool{}
		for i, f := range fs {
			fp := ptr + "/" + strconv.Itoa(i)
			if seen[f.ID] {
				add(fp+"/id", "字段%q重复声明", "field %q is declared twice", f.ID)
			}
			seen[f.ID] = true
			if top {
				fields[f.ID] = f
			}
			checkWhen(fp, f.When)
			if f.Prefill != nil {
				ps = append(ps, it.checkSourceRef(fp+"/prefill/source", f.Prefill.Source, licences)...)
			}
			if f.Computed != nil {
				switch {
				case !top:
					add(fp+"/computed", "表格的列不能由系统计算", "a table column cannot be computed: compute a field of the form")
				case f.Prefill != nil:
					add(fp+"/computed", "字段不能既由系统计算又从数据源预填，请删去其中之一", "a field is either computed or prefilled, not both: remove one")
				case f.Type == "table" || f.Type == "file":
					add(fp+"/computed", "%s类型的字段不能由系统计算", "a %s field cannot be computed", f.Type)
				default:
					ps = append(ps, it.checkExprSyntax(fp+"/computed/expr", f.Computed.Expr)...)
				}
			}
			if v := f.Validation; v != nil {
				if v.Pattern != "" {
					if _, err := regexp.Compile(v.Pattern); err != nil {
						add(fp+"/validation/pattern", "pattern不是有效的正则表达式：%v", "pattern is not a valid regular expression: %v", err)
					}
				}
				if v.Min != nil && v.Max != nil && *v.Min > *v.Max {
					add(fp+"/validation", "min大于max", "min is greater than max")
				}
				if v.MinLength != nil && v.MaxLength != nil && *v.MinLength > *v.MaxLength {
					add(fp+"/validation", "min_length大于max_length", "min_length is greater than max_length")
				}
			}
			opts := map[string]bool{}
			for j, o := range f.Options {
				if opts[o.Value] {
					add(fmt.Sprintf("%s/options/%d/value", fp, j), "选项%q出现两次", "option %q appears twice", o.Value)
				}
				opts[o.Value] = true
			}
			if f.Type == "table" {
				checkFields(fp+"/columns", f.Columns, false)
			}
		}
	}
	checkFields("/form", it.Form, true)

	// Materials.
	matIDs := map[string]bool{}
	for i, m := range it.Materials {
		mp := "/materials/" + strconv.Itoa(i)
		if matIDs[m.ID] {
			add(mp+"/id", "材料%q重复声明", "material %q is declared twice", m.ID)
		}
		matIDs[m.ID] = true
		checkWhen(mp, m.When)
		var hasGov, hasUpload, hasCommit bool
		for j, src := range m.Sources {
			sp := fmt.Sprintf("%s/sources/%d", mp, j)
			switch {
			case src.Licence != "":
				hasGov = true
				if _, ok := licences[src.Licence]; !ok {
					add(sp+"/licence", "证照类型%q未在licences.yaml中声明", "licence type %q is not declared in licences.yaml", src.Licence)
				}
			case src.Registry != "":
				hasGov = true
				ps = append(ps, it.checkSourceRef(sp+"/registry", src.Registry, licences)...)
			case src.Upload:
				hasUpload = true
			case src.Commitment:
				hasCommit = true
			}
		}
		switch {
		case m.Trust == "A" && !hasGov:
			add(mp+"/trust", "A级材料须由政府部门出具：请增加证照或部门数据来源，或降低等级", "trust level A is for materials issued by a government body: add a licence or registry source, or lower the level")
		case m.Trust == "D" && !hasCommit:
			add(mp+"/trust", "D级材料是申请人承诺作出的声明：请增加承诺来源", "trust level D is for statements made under a commitment: add a commitment source")
		case (m.Trust == "B" || m.Trust == "C") && !hasUpload && !hasGov:
			add(mp+"/trust", "%s级材料需要文件：请增加上传来源", "trust level %s needs a document: add an upload source", m.Trust)
		}
		if m.OriginalRequired && it.Visits == 0 {
			add(mp+"/original_required", "本事项承诺零跑动（visits: 0），但该材料需要到窗口核验原件", "the item promises zero visits (visits: 0) but this material needs its original seen at a window")
		}
	}

	// Limits, channels and modes.
	if it.TimeLimit.StatutoryDays > 0 && it.TimeLimit.PromisedDays > it.TimeLimit.StatutoryDays {
		add("/time_limit/promised_days", "承诺时限（%d个工作日）长于法定时限（%d个工作日）", "the promised limit (%d working days) is longer than the statutory one (%d)", it.TimeLimit.PromisedDays, it.TimeLimit.StatutoryDays)
	}
	if it.Visits == 0 && !slices.Contains(it.Channels, "online") && !slices.Contains(it.Channels, "mobile") {
		add("/visits", "零跑动须提供网上或移动端办理渠道", "zero visits needs an online or mobile channel")
	}
	if it.Approval.Mode == "auto" && len(it.Rules) == 0 {
		add("/approval/mode", "系统自动审批（auto）至少需要一条规则：没有规则将一律批准", "machine approval (auto) needs at least one rule: without rules everything would be approved")
	}
	if it.Approval.Mode != "auto" && it.Approval.Mode != "commitment" && it.Approval.SamplePercent > 0 {
		add("/approval/sample_percent", "抽查比例只适用于无人审查的审批（mode auto 或 commitment）", "spot-check sampling applies to approvals no person reviews only (mode auto or commitment)")
	}
	for i, f := range it.Fees.Items {
		checkWhen(fmt.Sprintf("/fees/items/%d", i), f.When)
		if f.PerField == "" {
			continue
		}
		if fld, ok := fields[f.PerField]; !ok || fld.Type != "number" {
			add(fmt.Sprintf("/fees/items/%d/per_field", i), "per_field须是表单中的数字字段，不能是%q", "per_field must name a number field of the form, not %q", f.PerField)
		}
	}
	roles := map[string]bool{}
	for i, p := range it.Parties {
		if roles[p.Role] {
			add(fmt.Sprintf("/parties/%d/role", i), "当事人角色%q出现两次", "party role %q appears twice", p.Role)
		}
		roles[p.Role] = true
	}

	// Steps: departments exist, ids unique, the path fits the promise.
	stepIDs := map[string]bool{}
	groupSize := map[string]int{}
	for i, s := range it.Steps {
		sp := "/steps/" + strconv.Itoa(i)
		if stepIDs[s.ID] {
			add(sp+"/id", "环节%q重复声明", "step %q is declared twice", s.ID)
		}
		stepIDs[s.ID] = true
		if _, ok := depts[s.Department]; !ok {
			add(sp+"/department", "部门%q未在departments.yaml中声明", "department %q is not declared in departments.yaml", s.Department)
		}
		checkWhen(sp, s.When)
		if s.Group != "" {
			groupSize[s.Group]++
		}
	}
	for g, n := range groupSize {
		if n < 2 {
			add("/steps", "并联组%q只有一个环节：并联组须同时办理多个环节", "parallel group %q has only one step: a group runs several steps at once", g)
		}
	}
	if limit := it.TimeLimit.PromisedDays; limit > 0 {
		for _, combo := range AnswerCombinations(it.Situations, 512) {
			if days := stepDays(it.Steps, combo); days > limit {
				add("/steps", "%s时适用的环节共需%d个工作日，超过承诺的%d个工作日", "the steps that apply when %s take %d working days, more than the promised %d", describeCombo(combo), days, limit)
				break
			}
		}
	}

	// Rules: unique, syntactically valid CEL.
	ruleIDs := map[string]bool{}
	for i, r := range it.Rules {
		rp := "/rules/" + strconv.Itoa(i)
		if ruleIDs[r.ID] {
			add(rp+"/id", "规则%q重复声明", "rule %q is declared twice", r.ID)
		}
		ruleIDs[r.ID] = true
		checkWhen(rp, r.When)
		ps = append(ps, it.checkExprSyntax(rp+"/expr", r.Expr)...)
	}

	if o := it.Output; o != nil {
		if l, ok := licences[o.Licence]; o.Licence != "" && !ok {
			add("/output/licence", "证照类型%q未在licences.yaml中声明", "licence type %q is not declared in licences.yaml", o.Licence)
		} else if o.Licence != "" && l.Issuer != "external" && l.TypeCode == "" {
			add("/output/licence", "证照类型%q在本平台签发，但licences.yaml中没有type_code（四位数字或大写字母，用于证照编号）", "licence type %q is issued here but has no type_code in licences.yaml (four digits or capital letters, for its licence numbers)", o.Licence)
		}
		if o.Licence == "" && o.Cancels == "" {
			add("/output", "办理结果须签发证照（licence）或注销证照（cancels）", "the output must issue a licence (licence) or cancel one (cancels)")
		}
		for _, ref := range []struct{ at, code string }{{"/output/supersedes", o.Supersedes}, {"/output/cancels", o.Cancels}} {
			if _, ok := licences[ref.code]; ref.code != "" && !ok {
				add(ref.at, "证照类型%q未在licences.yaml中声明", "licence type %q is not declared in licences.yaml", ref.code)
			}
		}
		if o.Supersedes != "" && o.Licence == "" {
			add("/output/supersedes", "被取代的证照须由本事项签发的证照（licence）取代", "a superseded licence needs the licence that replaces it (licence)")
		}
		if o.Holder != "" && !slices.ContainsFunc(it.Parties, func(p Party) bool { return p.Role == o.Holder }) {
			add("/output/holder", "持证人%q不是本事项的当事人身份（parties）", "holder %q is not one of the item's party roles (parties)", o.Holder)
		}
		if o.Holder != "" && o.Licence != "" && licences[o.Licence].Holder == "enterprise" {
			add("/output/holder", "证照%q由企业持有，不能由当事人个人持有", "licence type %q is held by an enterprise, not by a party in person", o.Licence)
		}
	}
	if pr := it.Proactive; pr != nil {
		_, turns := TurnsAge(pr.Trigger)
		_, event := EventTriggers[pr.Trigger]
		dated := pr.Trigger == TriggerExpiring || pr.Trigger == TriggerAnniversary
		switch {
		case !turns && !event && !dated:
			add("/proactive/trigger", "触发条件%q不存在：可用population.turns_N（年满N周岁）、licence.expiring（证照到期前）、licence.anniversary（证照周年）或登记事件（%s）",
				"trigger %q does not exist: use population.turns_N (turning N), licence.expiring (before a licence expires), licence.anniversary (a licence's anniversary) or a registry event (%s)",
				pr.Trigger, strings.Join(slices.Sorted(maps.Keys(EventTriggers)), ", "))
		case dated && pr.Licence == "":
			add("/proactive/licence", "触发条件%q须用licence指明证照类型", "trigger %q needs the licence type in licence", pr.Trigger)
		case !dated && (pr.Licence != "" || pr.DaysBefore != 0):
			add("/proactive", "licence和days_before只用于证照到期或周年的触发条件", "licence and days_before belong to the licence.expiring and licence.anniversary triggers only")
		}
		if _, ok := licences[pr.Licence]; pr.Licence != "" && !ok {
			add("/proactive/licence", "证照类型%q未在licences.yaml中声明", "licence type %q is not declared in licences.yaml", pr.Licence)
		}
		if pr.Trigger == TriggerExpiring && (pr.DaysBefore < 1 || pr.DaysBefore > 366) {
			add("/proactive/days_before", "到期前提醒天数须在1到366之间", "days_before must be between 1 and 366")
		}
		for sit, ans := range pr.Answers {
			i := slices.IndexFunc(it.Situations, func(s Situation) bool { return s.ID == sit })
			if i < 0 || !slices.ContainsFunc(it.Situations[i].Answers, func(a Answer) bool { return a.Value == ans }) {
				add("/proactive/answers/"+sit, "情形%q没有选项%q", "situation %q has no answer %q", sit, ans)
			}
		}
		for _, sit := range it.Situations {
			if _, ok := pr.Answers[sit.ID]; !ok && pr.Mode == "grant" {
				add("/proactive/answers", "免申即享（grant）须在answers中回答情形%q：无人申请时没有人回答它", "grant must answer situation %q in answers: nobody applies to answer it", sit.ID)
			}
		}
		if pr.Mode == "grant" && it.Target != "person" {
			add("/proactive/mode", "免申即享（grant）只用于面向个人的事项；面向企业的事项可主动推送（offer）", "grant is for items a person applies for; offer an enterprise's item instead")
		}
		if pr.Mode == "grant" && it.Approval.Mode != "auto" {
			add("/proactive/mode", "免申即享（grant）须由规则自动审批（approval.mode: auto）", "grant needs an item its rules decide (approval mode auto)")
		}
	}

	// Situations must matter, and every combination of answers must leave a form.
	for i, s := range it.Situations {
		if !used[s.ID] {
			add("/situations/"+strconv.Itoa(i), "情形%q不影响任何内容：没有字段、材料、环节、收费或规则在when中引用它", "situation %q changes nothing: no field, material, step, fee or rule names it in when", s.ID)
		}
	}
	for _, combo := range AnswerCombinations(it.Situations, 512) {
		n := 0
		for _, f := range it.Form {
			if f.When.Matches(combo) {
				n++
			}
		}
		if n == 0 {
			add("/form", "选项为%s时没有适用的表单字段：每种情形都需要表单", "when the answers are %s no form field applies: every situation needs a form", describeCombo(combo))
			break
		}
	}
	return ps
}

// noManualRoute is the warning about a machine item without a manual route.
var noManualRoute = Text{
	Zh: "系统自动审批的事项没有声明转人工审核的去向（approval.manual）：转人工的办件将落到本事项的环节，按其时限（通常当天）到期",
	En: "a machine-approved item declares no route for its manual cases (approval.manual): they fall to the item's own steps, due in their days (often the same day)",
}

// Warnings are what is likely wrong with the item though it works, for
// the pages that show a stored version; checking the catalogue reports the
// same at their place in the file.
func (it Item) Warnings() []Text {
	if it.Approval.Mode == "auto" && it.Approval.Manual == nil {
		return []Text{noManualRoute}
	}
	return nil
}

// checkManualRoute checks where a machine item's manual cases go: to a
// declared department or hall. A machine item without a route is a
// warning: its manual cases would fall to the machine's own steps.
func (it *LoadedItem) checkManualRoute(depts map[string]Department, halls map[string]bool) []Problem {
	r := it.Approval.Manual
	switch {
	case r == nil && it.Approval.Mode == "auto":
		line, col := it.At("/approval")
		return []Problem{{File: it.File, Line: line, Col: col, Message: noManualRoute.En, Zh: noManualRoute.Zh, Warning: true}}
	case r == nil:
		return nil
	case it.Approval.Mode != "auto":
		return []Problem{it.problem("/approval/manual", "转人工审核的去向只适用于系统自动审批（mode auto）：其他方式按环节办理", "a manual route applies to machine approval only (mode auto): other modes follow their steps")}
	case r.Department != "":
		if _, ok := depts[r.Department]; !ok {
			return []Problem{it.problem("/approval/manual/department", "部门%q未在departments.yaml中声明", "department %q is not declared in departments.yaml", r.Department)}
		}
	case !halls[r.Hall]:
		return []Problem{it.problem("/approval/manual/hall", "大厅%q未在departments.yaml的halls中声明", "hall %q is not declared under halls in departments.yaml", r.Hall)}
	}
	if limit := it.TimeLimit.StatutoryDays; limit > 0 && r.Days > limit {
		return []Problem{it.problem("/approval/manual/days", "人工审核的%d个工作日超过法定时限%d个工作日", "the manual review's %d working days exceed the statutory %d", r.Days, limit)}
	}
	return nil
}

func (it *LoadedItem) problem(ptr, zh, en string, args ...any) Problem {
	return it.Source.problem(ptr, zh, en, args...)
}

// checkSourceRef checks registry.field or licence.type.field against the
// data sharing hub's schemas: the source exists and has the field.
func (it *LoadedItem) checkSourceRef(ptr, ref string, licences map[string]LicenceType) []Problem {
	parts := strings.Split(ref, ".")
	if !slices.Contains(DataSources, parts[0]) {
		return []Problem{it.problem(ptr, "%q不是数据来源；数据来源有%s", "%q names no data source; sources are %s", ref, strings.Join(DataSources, ", "))}
	}
	source, field, ok := hub.SplitRef(ref)
	if !ok {
		if parts[0] == "licence" {
			return []Problem{it.problem(ptr, "证照来源须写成licence.类型.字段，如licence.business_licence.name", "a licence source is written licence.TYPE.FIELD, e.g. licence.business_licence.name")}
		}
		return []Problem{it.problem(ptr, "部门数据来源须写成来源.字段，如population.name", "a registry source is written SOURCE.FIELD, e.g. population.name")}
	}
	if parts[0] == "licence" {
		if _, ok := licences[parts[1]]; !ok {
			return []Problem{it.problem(ptr, "证照类型%q未在licences.yaml中声明", "licence type %q is not declared in licences.yaml", parts[1])}
		}
		return nil // a licence's own fields vary by type
	}
	src, _ := hub.Lookup(source)
	if _, ok := src.Field(field); !ok {
		var names []string
		for _, f := range src.Fields {
			names = append(names, f.Name)
		}
		return []Problem{it.problem(ptr, "数据来源%s没有字段%q；可用字段有%s", "the %s source has no field %q; its fields are %s", source, field, strings.Join(names, ", "))}
	}
	return nil
}

// checkExprSyntax parses a rule's CEL expression. Types are checked by the
// rules engine, which knows the inputs; here only the syntax is, so that a
// typo is caught where it is written.
func (it *LoadedItem) checkExprSyntax(ptr, expr string) []Problem {
	env, err := cel.NewEnv()
	if err != nil {
		return []Problem{it.problem(ptr, "规则环境无法建立：%v", "CEL environment: %v", err)}
	}
	_, iss := env.Parse(expr)
	if iss == nil || iss.Err() == nil {
		return nil
	}
	line, col := it.At(ptr)
	node := it.pos[ptr].value
	var ps []Problem
	for _, e := range iss.Errors() {
		l, c := e.Location.Line(), e.Location.Column()
		p := Problem{File: it.File, Line: line, Col: col, Message: "rule expression: " + firstLine(e.Message), Zh: "规则表达式有语法错误：" + firstLine(e.Message)}
		if node != nil && (node.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
			p.Line, p.Col = line+l, col+c+2 // block scalar: content starts on the next line, indented
		} else if l == 1 {
			p.Col = col + c
			if node != nil && (node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
				p.Col++
			}
		}
		ps = append(ps, p)
	}
	return ps
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// stepDays is how long the steps that apply under answers take: steps in
// sequence add up, a parallel group counts as its longest step.
func stepDays(steps []Step, answers map[string]string) int {
	total := 0
	longest := map[string]int{}
	for _, s := range steps {
		if !s.When.Matches(answers) {
			continue
		}
		if s.Group == "" {
			total += s.Days
		} else if s.Days > longest[s.Group] {
			total += s.Days - longest[s.Group]
			longest[s.Group] = s.Days
		}
	}
	return total
}

// Matches reports whether an element with this When applies under the answers.
func (w When) Matches(answers map[string]string) bool {
	for sit, vals := range w {
		if a, ok := answers[sit]; ok && !slices.Contains(vals, a) {
			return false
		}
	}
	return true
}

// AnswerCombinations lists combinations of one answer per situation, at most max.
func AnswerCombinations(sits []Situation, max int) []map[string]string {
	combos := []map[string]string{{}}
	for _, s := range sits {
		var next []map[string]string
		for _, c := range combos {
			for _, a := range s.Answers {
				m := make(map[string]string, len(c)+1)
				for k, v := range c {
					m[k] = v
				}
				m[s.ID] = a.Value
				next = append(next, m)
				if len(next) >= max {
					break
				}
			}
		}
		combos = next
	}
	return combos
}

func describeCombo(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, ", ")
}

// checkLicenceSpec checks what issuing a licence type needs: types issued on
// the platform have a unique type code and well-formed fields.
func (c *Catalogue) checkLicenceSpec(ptr string, l LicenceType, typeCodes map[string]string) []Problem {
	var ps []Problem
	if l.Issuer != "external" {
		switch other, dup := typeCodes[l.TypeCode]; {
		case l.TypeCode == "":
		case dup:
			ps = append(ps, c.licSource.problem(ptr+"/type_code", "类型代码%s已被%s使用", "type code %s is also used by %s", l.TypeCode, other))
		default:
			typeCodes[l.TypeCode] = l.Code
		}
	}
	seen := map[string]bool{}
	for j, f := range l.Fields {
		if seen[f.ID] {
			ps = append(ps, c.licSource.problem(ptr+"/fields/"+strconv.Itoa(j)+"/id", "字段%q重复声明", "field %q is declared twice", f.ID))
		}
		seen[f.ID] = true
		if slices.ContainsFunc(hubLicenceFields, func(n string) bool { return n == f.ID }) {
			ps = append(ps, c.licSource.problem(ptr+"/fields/"+strconv.Itoa(j)+"/id", "字段%q是所有证照都有的字段：请换一个id", "field %q is one every licence has: choose another id", f.ID))
		}
	}
	return ps
}

// hubLicenceFields are the fields every licence record in the data hub has
// (hub.LicenceFields); a type's own fields may not shadow them.
var hubLicenceFields = []string{"type", "number", "holder", "holder_id", "issuer", "issue_date", "expiry_date", "status", "trust_level"}
