package hub

import (
	"strings"
	"sync"
)

func f(name string, t FieldType, zh, en string) Field {
	return Field{Name: name, Type: t, LabelZh: zh, LabelEn: en}
}

// oneOf gives fd its list of values: rules compare against these codes, so
// a system that answers in other words ("已婚" for married) breaks them.
func (fd Field) oneOf(values ...string) Field { fd.Values = values; return fd }

// Sources returns the sources the hub knows, with their fields. E-licence
// sources are named licence.TYPE and share LicenceFields.
func Sources() []Source {
	return []Source{
		{Name: "applicant", LabelZh: "申请人账号", LabelEn: "Applicant's account", Subject: Person, Trust: "B", Fields: []Field{
			f("name", String, "姓名", "Name"), f("id_number", String, "公民身份号码", "ID number"), f("phone", String, "手机号码", "Mobile phone"),
		}},
		{Name: "population", LabelZh: "人口库", LabelEn: "Population registry", Subject: Person, Trust: "A", Fields: []Field{
			f("name", String, "姓名", "Name"), f("id_number", String, "公民身份号码", "ID number"), f("gender", String, "性别", "Sex").oneOf("male", "female"),
			f("birth_date", Date, "出生日期", "Date of birth"), f("ethnicity", String, "民族", "Ethnicity"),
			f("address", String, "居住地址", "Residential address"), f("phone", String, "联系电话", "Phone"),
			f("household", String, "户号", "Household number"), f("household_address", String, "户籍地址", "Hukou address"),
			f("household_region", String, "户籍地区划代码", "Hukou region code"), f("household_status", String, "户籍状态", "Hukou status").oneOf("normal", "cancelled"),
			f("residence_region", String, "居住地区划代码", "Residence region code"),
			f("marital_status", String, "婚姻状况", "Marital status").oneOf("single", "married", "divorced", "widowed"), f("spouse_name", String, "配偶姓名", "Spouse's name"),
			f("spouse_id_number", String, "配偶身份号码", "Spouse's ID number"), f("children_count", Int, "子女数", "Number of children"),
			f("alive", Bool, "是否健在", "Alive"), f("death_date", Date, "死亡日期", "Date of death"),
			f("no_criminal_record", Bool, "无犯罪记录", "No criminal record"), f("drug_record", Bool, "涉毒记录", "Drug record"),
			f("parents_ethnicity", String, "父母民族", "Parents' ethnicity"), f("birth_event", String, "出生登记编号", "Birth record number"),
			f("parent_id_numbers", StringList, "父母身份号码", "Parents' ID numbers"),
		}},
		{Name: "enterprise", LabelZh: "法人库", LabelEn: "Enterprise registry", Subject: Enterprise, Trust: "A", Fields: []Field{
			f("name", String, "企业名称", "Name"), f("credit_code", String, "统一社会信用代码", "Credit code"),
			f("status", String, "登记状态", "Status").oneOf("active", "revoked", "cancelled"), f("legal_rep", String, "法定代表人", "Legal representative"),
			f("legal_rep_id_number", String, "法定代表人身份号码", "Legal representative's ID number"),
			f("address", String, "住所", "Registered address"), f("business_scope", String, "经营范围", "Business scope"),
			f("registered_capital", Double, "注册资本（万元）", "Registered capital (10k yuan)"),
			f("established_on", Date, "成立日期", "Date established"), f("contact_phone", String, "联系电话", "Phone"),
			f("registration_summary", String, "登记信息摘要", "Registration summary"),
			f("agent_id_numbers", StringList, "经办人身份号码", "Agents' ID numbers"),
			f("tax_officer_id_numbers", StringList, "办税人身份号码", "Tax officers' ID numbers"),
			f("has_basic_account", Bool, "已开立基本存款账户", "Has a basic deposit account"),
			f("housing_fund_registered", Bool, "已登记住房公积金", "Housing fund registered"),
			f("social_insurance_registered", Bool, "已办理单位社会保险登记", "Registered for social insurance as an employer"),
			f("medical_insurance_registered", Bool, "已办理单位医保参保登记", "Registered for medical insurance as an employer"),
			f("open_enforcement_case", Bool, "存在未结执行案件", "Open enforcement case"),
			f("name_taken", Bool, "名称已被占用", "Name taken"),
		}},
		{Name: "education", LabelZh: "教育库", LabelEn: "Education registry", Subject: Person, Trust: "A", Fields: []Field{
			f("school", String, "毕业院校", "School"), f("level", String, "学历层次", "Level").oneOf("associate", "bachelor", "master", "doctor"), f("degree", String, "学位", "Degree").oneOf("学士", "硕士", "博士"),
			f("graduation_date", Date, "毕业日期", "Graduation date"), f("graduation_year", Int, "毕业年份", "Graduation year"),
			f("full_time", Bool, "全日制", "Full-time"), f("enrolled", Bool, "在读", "Enrolled"),
			f("graduation_certificate_number", String, "毕业证书编号", "Graduation certificate number"),
		}},
		{Name: "social_insurance", LabelZh: "社保库", LabelEn: "Social insurance registry", Subject: Person, Trust: "A", Fields: []Field{
			f("months_contributed", Int, "累计缴费月数", "Months contributed"), f("monthly_contributions", StringList, "近12个月缴费记录", "Contributions, last 12 months"),
			f("employer_credit_code", String, "参保单位信用代码", "Employer's credit code"), f("employer_name", String, "参保单位", "Employer"),
			f("employee_pension_active", Bool, "职工养老保险在缴", "Employee pension active"),
			f("card_bank_account", String, "社保卡金融账户", "Social security card bank account"), f("card_status", String, "社保卡状态", "Card status").oneOf("active", "suspended", "cancelled"),
			f("employment_history", String, "就业登记记录", "Employment record"), f("employer_contributions", String, "单位缴费记录", "Employer contributions"),
			f("employer_registered", Bool, "单位已参保登记", "Employer registered"), f("medical_registered", Bool, "单位已医保登记", "Medical insurance registered"),
			f("insured_employees", Int, "参保职工人数", "Insured employees"),
			f("retired", Bool, "已办理退休", "Retired"),
		}},
		{Name: "property", LabelZh: "不动产库", LabelEn: "Property registry", Subject: Person, Trust: "A", Fields: []Field{
			f("owner", String, "权利人", "Owner"), f("address", String, "坐落", "Address"), f("area", Double, "建筑面积（㎡）", "Floor area (m²)"),
			f("certificate_numbers", StringList, "不动产权证号", "Title certificate numbers"),
			f("sealed_certificate_numbers", StringList, "被查封的权证", "Sealed titles"), f("mortgaged_certificate_numbers", StringList, "已抵押的权证", "Mortgaged titles"),
			f("housing_count", Int, "名下住房套数", "Homes owned"), f("family_housing_count", Int, "家庭住房套数", "Homes owned by the family"),
			f("pending_transfer", Bool, "有在办转移登记", "Transfer pending"), f("contract_filing_number", String, "合同备案号", "Contract filing number"),
		}},
		{Name: "vehicle", LabelZh: "车驾管库", LabelEn: "Vehicle and driving registry", Subject: Person, Trust: "A", Fields: []Field{
			f("licence_date", Date, "初次领证日期", "Licence first issued"), f("driving_years", Int, "驾龄（年）", "Years driving"),
			f("licence_status", String, "驾驶证状态", "Licence status").oneOf("valid", "suspended", "revoked", "expired"), f("points_current_cycle", Int, "本记分周期记分", "Points this cycle"),
			f("points_history", StringList, "近三个记分周期记分", "Points, last three cycles"),
			f("full_points_last_3_periods", Int, "近三个周期满分次数", "Full points, last three cycles"),
			f("offences", Int, "未处理违法数", "Unresolved offences"), f("pending_count", Int, "待选号车辆数", "Vehicles awaiting plates"),
			f("pending_vin", String, "待选号车辆识别代号", "VIN awaiting a plate"), f("pending_vins", StringList, "待选号车辆识别代号", "VINs awaiting plates"),
			f("drink_driving_record", Bool, "饮酒驾驶记录", "Drink-driving record"),
		}},
		// credit holds enterprises too: an application made for one reads the
		// enterprise's record (internal/credit computes both).
		{Name: "credit", LabelZh: "信用库", LabelEn: "Credit registry", Subject: Person, AlsoEnterprises: true, Trust: "A", Fields: []Field{
			f("level", String, "信用等级", "Credit level").oneOf("A", "B", "C", "D"), f("blacklisted", Bool, "失信黑名单", "On the blacklist"),
			f("red_list", Bool, "守信红名单", "On the red list"),
			f("records", Int, "失信记录数", "Dishonesty records"), f("dishonest_judgment_debtor", Bool, "失信被执行人", "Dishonest judgment debtor"),
		}},
	}
}

// LicenceFields are the fields every e-licence has; a licence's own fields
// (e.g. a title certificate's area) come in "fields" and may be named
// directly as licence.TYPE.FIELD.
var LicenceFields = []Field{
	f("type", String, "证照类型", "Licence type"), f("number", String, "证照编号", "Licence number"),
	f("holder", String, "持证主体", "Holder"), f("holder_id", String, "持证主体代码", "Holder's ID or credit code"),
	f("issuer", String, "发证机关", "Issuer"), f("issue_date", Date, "发证日期", "Issue date"), f("expiry_date", Date, "有效期至", "Expiry date"),
	f("status", String, "证照状态", "Status").oneOf("valid", "revoked", "cancelled", "superseded", "expired"), f("trust_level", String, "可信等级", "Trust level").oneOf("A", "B", "C", "D"),
}

// LicenceSource splits the name of an e-licence source into its licence
// type and whether it is the history source: "licence.TYPE" holds the
// subject's licence of TYPE in force only, "licence_last.TYPE" the latest
// one whatever its status, for the few rules that must tell a cancelled
// or expired licence from none. Both read the same stored licence.TYPE
// record. ok is false for every other name.
func LicenceSource(name string) (typ string, last, ok bool) {
	if typ, ok := strings.CutPrefix(name, "licence."); ok && typ != "" {
		return typ, false, true
	}
	if typ, ok := strings.CutPrefix(name, "licence_last."); ok && typ != "" {
		return typ, true, true
	}
	return "", false, false
}

// IsLicence reports whether name is an e-licence source, licence.TYPE or
// licence_last.TYPE: one whose records are licences of any holder, with
// LicenceFields and the licence's own fields.
func IsLicence(name string) bool {
	_, _, ok := LicenceSource(name)
	return ok
}

// StoredLicence names the source a licence source's records are kept
// under: licence.TYPE, for licence_last.TYPE too.
func StoredLicence(name string) string {
	if typ, last, ok := LicenceSource(name); ok && last {
		return "licence." + typ
	}
	return name
}

// Lookup returns the source named name; licence.TYPE and
// licence_last.TYPE sources are made on demand with LicenceFields.
func Lookup(name string) (Source, bool) {
	if _, last, ok := LicenceSource(name); ok {
		if last {
			return Source{Name: name, LabelZh: "电子证照库（含已失效证照）", LabelEn: "E-licence registry (licences out of force included)", Subject: Person, Trust: "A", Fields: LicenceFields}, true
		}
		return Source{Name: name, LabelZh: "电子证照库", LabelEn: "E-licence registry", Subject: Person, Trust: "A", Fields: LicenceFields}, true
	}
	s, ok := sourcesByName()[name]
	return s, ok
}

// sourcesByName indexes Sources once: Lookup runs for every field of every
// record the demo generator and the rules touch. The Source values it returns
// share their Fields slices, which nobody modifies.
var sourcesByName = sync.OnceValue(func() map[string]Source {
	m := make(map[string]Source)
	for _, s := range Sources() {
		m[s.Name] = s
	}
	return m
})

// licenceContentFields name fields of a licence's own content that pages
// show when they were read (a title certificate's unit number and area);
// they are not on every licence, so not in LicenceFields.
var licenceContentFields = []Field{
	f("certificate_number", String, "不动产权证号", "Title certificate number"), f("unit_number", String, "不动产单元号", "Property unit number"),
	f("address", String, "坐落", "Address"), f("area", Double, "面积（㎡）", "Area (m²)"), f("usage", String, "用途", "Use"),
}

// FieldOf describes a field read from the named source, for pages that
// show what was read: the source's own field, or a licence's content field.
func FieldOf(source, name string) (Field, bool) {
	s, ok := Lookup(source)
	if !ok {
		return Field{}, false
	}
	if f, ok := s.Field(name); ok {
		return f, true
	}
	if IsLicence(source) {
		return Source{Fields: licenceContentFields}.Field(name)
	}
	return Field{}, false
}

// In is the source's name in lang ("en" or "zh").
func (s Source) In(lang string) string {
	if lang == "en" {
		return s.LabelEn
	}
	return s.LabelZh
}

// In is the field's name in lang ("en" or "zh").
func (f Field) In(lang string) string {
	if lang == "en" {
		return f.LabelEn
	}
	return f.LabelZh
}

// Named parses a name as items and rules write it — "population.household_region",
// "licence.TYPE.FIELD", "licence_last.TYPE.FIELD", or a source alone — into
// its source and field (zero when the name has none or the hub does not know it).
func Named(name string) (Source, Field, bool) {
	src, field, _ := strings.Cut(name, ".")
	if src == "licence" || src == "licence_last" {
		typ, rest, _ := strings.Cut(field, ".")
		src, field = src+"."+typ, rest
	}
	s, ok := Lookup(src)
	if !ok {
		return Source{}, Field{}, false
	}
	f, _ := FieldOf(src, field)
	return s, f, true
}

// SourceName names the source of a hub name in lang ("人口库"), or returns
// the name as it is if the hub does not know it.
func SourceName(lang, name string) string {
	s, _, ok := Named(name)
	if !ok {
		return name
	}
	return s.In(lang)
}
