package web

import (
	"sort"
	"strings"
)

// labels is the one table of the platform's own codes as people read them,
// kind → code → {Chinese, English}. Every page shows a code through Label
// (the "label" template function), so a code gets its words once, here.
// Values the catalogue defines (form options, materials, licence types,
// departments) are named by the catalogue and the directory instead.
var labels = map[string]map[string][2]string{
	// Application statuses (internal/workflow).
	"status": {
		"draft": {"草稿（未提交）", "Draft (not submitted)"}, "submitted": {"已提交", "Submitted"}, "accepted": {"已受理", "Accepted"},
		"not_accepted": {"不予受理", "Not accepted"}, "correction_requested": {"待补正", "Correction requested"},
		"under_review": {"审查中", "Under review"}, "special_procedure": {"特别程序", "Special procedure"},
		"approved": {"已准予", "Approved"}, "rejected": {"不予许可", "Rejected"}, "licence_issued": {"已出证", "Licence issued"},
		"delivered": {"已送达", "Delivered"}, "withdrawn": {"已撤回", "Withdrawn"}, "revoked": {"已撤销", "Revoked"},
	},
	// A bundle case's status (一件事), from its members'.
	"bundle": {
		"in_progress": {"办理中", "In progress"}, "needs_correction": {"部分需补正", "Some need correction"},
		"done": {"已办结", "Done"}, "partly_refused": {"部分未通过", "Partly refused"},
	},
	// A bundle member's state before its application says more.
	"member": {
		"waiting": {"等待前序事项办结", "Waiting for the items it needs"}, "submitted": {"已提交", "Submitted"},
		"skipped": {"本次不办理", "Not needed this time"}, "failed": {"未能提交", "Not submitted"},
	},
	// Steps (tasks) of an application.
	"task": {
		"waiting": {"未开始", "Waiting"}, "open": {"待办", "Open"}, "claimed": {"已认领", "Claimed"},
		"approved": {"已通过", "Approved"}, "rejected": {"未通过", "Rejected"}, "cancelled": {"已取消", "Cancelled"},
	},
	// A co-party's answer (一事多人).
	"party": {
		"named": {"已填写（提交后通知）", "Named (told on submission)"}, "invited": {"待确认", "Invited"},
		"confirmed": {"已确认", "Confirmed"}, "refused": {"已拒绝", "Refused"}, "lapsed": {"逾期未确认", "Did not answer in time"},
	},
	// What happened, in an application's timeline.
	"event": {
		"start": {"开始办理", "Started"}, "upload": {"上传材料", "File uploaded"}, "submit": {"提交申请", "Submitted"},
		"accept": {"受理", "Accepted"}, "refuse": {"不予受理", "Not accepted"}, "request_correction": {"要求补正", "Corrections requested"},
		"supply": {"提交补正", "Corrections supplied"}, "start_review": {"进入审查", "Review started"},
		"step_approved": {"审查环节通过", "A review step approved"}, "start_special": {"进入特别程序", "Special procedure started"},
		"end_special": {"特别程序结束", "Special procedure ended"}, "approve": {"准予", "Approved"}, "reject": {"不予准许", "Rejected"},
		"issue": {"发放电子证照", "E-licence issued"}, "deliver": {"送达", "Delivered"}, "withdraw": {"撤回", "Withdrawn"},
		"revoke": {"撤销", "Revoked"}, "claim": {"认领", "Claimed"}, "release": {"退回待办", "Released"}, "reassign": {"改派", "Reassigned"},
		"commitment_signed": {"签署承诺", "Commitment signed"}, "pledge": {"承诺材料", "Material pledged"},
		"parties_invited": {"邀请共同申请人", "Co-parties invited"}, "party_confirmed": {"共同申请人确认", "Co-party confirmed"},
		"party_refused": {"共同申请人拒绝", "Co-party refused"}, "material_deferred": {"容缺受理", "Material deferred"},
		"material_supplied": {"补交材料", "Material supplied"}, "notice_opened": {"开始公示", "Public notice opened"},
		"objection": {"收到异议", "Objection received"}, "objection_cleared": {"异议不成立", "Objection cleared"},
		"inspection_scheduled": {"安排核查", "Inspection scheduled"}, "inspection_passed": {"核查通过", "Inspection passed"},
		"credit_record": {"记入信用记录", "Credit record written"}, "deadline_provisional": {"时限暂按推算", "Deadline counted provisionally"},
		"deadline_recounted": {"时限重新计算", "Deadline recounted"}, "enterprise_registered": {"企业已登记", "Enterprise registered"},
		"licence_not_issued": {"证照未能签发", "Licence not issued"}, "licence_cancelled": {"证照已注销", "Licence cancelled"},
		"licence_not_cancelled": {"无可注销的有效证照", "No licence in force to cancel"},
		"spot_check_passed":     {"双随机抽查合格", "Spot check passed"},
		"spot_check_corrected":  {"抽查责令整改", "Correction ordered after a spot check"},
		"declined":              {"本人放弃", "Declined by the person"},
	},
	// Who did it, in a timeline.
	"actor": {
		"applicant": {"申请人", "Applicant"}, "staff": {"工作人员", "Staff"}, "machine": {"系统自动", "Automatic"},
		"system": {"系统", "System"}, "party": {"共同申请人", "Co-applicant"}, "cli": {"命令行管理员", "Command-line administrator"},
		"system:demo": {"演示数据导入", "Demo data import"},
	},
	// Deadline lights, by name; pages write out the days left beside them.
	"light": {
		"green": {"正常", "On time"}, "yellow": {"黄灯", "Yellow"}, "red": {"红灯", "Red"}, "paused": {"暂停计时", "Clock paused"},
	},
	// Material trust levels of the national technical guide.
	"trust": {
		"A": {"A 级：政府部门核发", "A: issued by a government body"}, "B": {"B 级：窗口核验原件", "B: checked against the original"},
		"C": {"C 级：申请人上传，待核验", "C: uploaded, to be checked"}, "D": {"D 级：申请人承诺", "D: applicant's commitment"},
	},
	// The service-performance dashboard's periods (insight).
	"insight_period": {"day": {"按日", "By day"}, "week": {"按周", "By week"}, "month": {"按月", "By month"}, "year": {"按年", "By year"}},
	// Ways to apply.
	"channel": {
		"online": {"网上办", "Online"}, "web": {"网上办事大厅", "Website"}, "mobile": {"掌上办", "Mobile"}, "kiosk": {"自助终端", "Self-service kiosk"},
		"window": {"窗口办", "Service window"}, "bank": {"银行网点", "Bank outlet"}, "post": {"邮寄", "By post"}, "api": {"系统对接", "Another system"},
	},
	// Staff roles (internal/authz) and the roles steps name.
	"role": {
		"applicant": {"申请人", "Applicant"}, "clerk": {"综合窗口", "Window clerk"}, "reviewer": {"审核人员", "Reviewer"},
		"head": {"审批负责人", "Department head"}, "supervisor": {"电子监察", "Supervisor"},
		"catalog_admin": {"事项管理员", "Catalogue administrator"}, "sys_admin": {"系统管理员", "System administrator"},
	},
	// Who an item is for.
	"target": {"person": {"自然人", "Individuals"}, "enterprise": {"法人", "Enterprises"}, "both": {"自然人、法人", "Individuals and enterprises"}},
	// How an item is decided.
	"mode": {
		"auto": {"秒批（系统自动审批）", "Instant machine approval"}, "commitment": {"告知承诺", "Approval on commitment"},
		"filing": {"备案（公示）", "Filing with public notice"}, "manual": {"人工审批", "Reviewed by staff"},
	},
	// Where an item can be done (通办).
	"scope": {
		"district": {"全区通办", "Anywhere in the district"}, "city": {"全市通办", "Anywhere in the city"},
		"province": {"全省通办", "Anywhere in the province"}, "national": {"跨省通办", "Across provinces"},
	},
	// Special procedures (特别程序), whose time is not counted.
	"special": {
		"hearing": {"听证", "Hearing"}, "testing": {"检验检测", "Testing"}, "expert_review": {"专家评审", "Expert review"},
		"site_inspection": {"现场勘验", "Site inspection"},
	},
	// An e-licence's state.
	"licence": {
		"valid": {"有效", "Valid"}, "revoked": {"已撤销", "Revoked"}, "expired": {"已过期", "Expired"},
		"cancelled": {"已注销", "Cancelled"}, "superseded": {"已被取代", "Superseded"},
		"signature_invalid": {"签章无效", "Signature invalid"}, "unknown": {"非本平台签发", "Not issued here"},
		"record_tampered": {"记录被篡改", "Record tampered with"},
	},
	// What verifying a licence found, in a sentence.
	"verify": {
		"valid":   {"有效：电子印章验证通过，证照在有效期内。", "Valid: the seal verifies and the licence is in force."},
		"revoked": {"已撤销：证照已被发证机关撤销。", "Revoked by the issuer."}, "expired": {"已过期：证照已超过有效期。", "Expired."},
		"cancelled":         {"已注销：证照已应持证人申请注销。", "Cancelled at the holder's request."},
		"superseded":        {"已被取代：证照已由新签发的证照取代，不再有效。", "Superseded by a newer licence; no longer in force."},
		"signature_invalid": {"签章无效：证照内容与电子印章不符，可能已被篡改。", "The seal does not match the content: it was altered."},
		"unknown":           {"未知：本平台没有签发该证照的记录。", "This platform has no record of issuing it."},
		"record_tampered":   {"记录被篡改：证照状态与发证机关签名不符，请联系发证机关核实。", "The record was tampered with: its status is not the one the issuer signed. Ask the issuer."},
		"mistyped":          {"证照编号有误（校验位不符），请核对。", "The licence number is mistyped: its check character does not match."},
	},
	// Catalogue versions.
	"version": {
		"draft": {"草稿", "Draft"}, "published": {"已发布", "Published"}, "superseded": {"已被取代", "Superseded"}, "retired": {"已停用", "Retired"},
	},
	// A rule-change simulation's progress (simulate).
	"simulation": {"queued": {"排队中", "Queued"}, "running": {"进行中", "Running"}, "done": {"已完成", "Done"}, "failed": {"未完成", "Failed"}},
	// A filing's public notice (公示).
	"notice": {"open": {"公示中", "Open"}, "halted": {"异议审查中", "Halted for an objection"}, "rejected": {"已终止", "Stopped"}, "ended": {"公示期满", "Ended"}},
	// The machine's decision (秒批) and each rule's result in its trace.
	"outcome": {"approve": {"通过", "Approve"}, "reject": {"不予准许", "Reject"}, "manual": {"转人工审核", "To a reviewer"}},
	"result": {
		"true": {"通过", "Passed"}, "false": {"未通过", "Failed"}, "unknown": {"缺数据", "Data missing"},
		"error": {"无法判断", "Could not be evaluated"}, "skipped": {"不适用", "Not applicable"},
		"computed": {"已计算", "Computed"},
	},
	// What a computed field's computation looked at, beside the form's
	// fields and the registries' (named by the item and the hub).
	"trace": {
		"form": {"申请表", "Form"}, "today": {"决定日", "Decision day"},
		"applicant.age": {"申请人年龄", "Applicant's age"}, "applicant.birth_date": {"申请人出生日期", "Applicant's birth date"},
		"applicant.sex": {"申请人性别", "Applicant's sex"}, "applicant.kind": {"申请人类别", "Applicant kind"},
		"credit.level": {"信用等级", "Credit level"},
	},
	// What a notification is about (internal/notify), and how it is sent.
	"notification": {
		"coparty_invitation": {"共同申请人确认", "Co-party invitation"}, "correction_requested": {"补正通知", "Correction request"},
		"deadline_warning": {"期限预警", "Deadline warning"}, "decision": {"办理结果", "Decision"},
		"licence_issued": {"证照签发", "Licence issued"}, "account_security": {"账号安全", "Account security"},
		"rectification_answer": {"差评整改答复", "Rectification answered"}, "consultation_answer": {"咨询投诉答复", "Question or complaint answered"},
		"spot_check":    {"双随机抽查", "Spot check"},
		"service_offer": {"主动服务", "Service offer"}, "supervision_alert": {"电子监察提醒", "E-supervision alert"},
	},
	// Spot checks (双随机一公开): a check's status, the public result, the
	// approval mode sampled.
	"spot_check": {
		"open": {"待核查", "To check"}, "confirmed": {"合格", "Pass"}, "violation": {"不合格", "Fail"},
		"corrected": {"不合格（责令整改）", "Fail (to be corrected)"}, "correct": {"不合格（责令整改）", "Fail (to be corrected)"},
		"pass": {"合格", "Pass"}, "fail": {"不合格", "Fail"}, "auto": {"秒批（自动审批）", "Machine approval"}, "commitment": {"告知承诺", "Approval on commitment"},
	},
	// 好差评 (internal/rating): how a rating came, a rectification's state,
	// the person's verdict on it.
	"rating_channel": {"online": {"网上评价", "Online"}, "window": {"窗口扫码评价", "At the window"}, "kiosk": {"自助终端评价", "At a kiosk"}, "phone": {"电话评价", "By phone"}},
	"rectification":  {"open": {"待整改", "Waiting for the department"}, "answered": {"已答复，待回访", "Answered, to be called back"}, "closed": {"已办结", "Closed"}},
	"verdict":        {"satisfied": {"满意", "Satisfied"}, "unsatisfied": {"不满意", "Not satisfied"}},
	"notify_channel": {"in_app": {"站内消息", "Inbox"}, "email": {"电子邮件", "Email"}, "sms": {"短信", "SMS"}, "webhook": {"推送至其他系统", "Webhook to another system"}},
	// 我要问、我要投诉 (internal/consult): what was sent, where it stands, how the answer was rated.
	"consult_kind":   {"question": {"咨询", "Question"}, "complaint": {"投诉", "Complaint"}, "report": {"举报", "Report"}, "suggestion": {"建议", "Suggestion"}},
	"consult_status": {"open": {"待答复", "Awaiting an answer"}, "answered": {"已答复", "Answered"}, "closed": {"已办结", "Closed"}},
	"consult_rating": {"satisfied": {"满意", "Satisfied"}, "unsatisfied": {"不满意", "Not satisfied"}},
	// How a material was supplied.
	"source": {
		"upload": {"上传文件", "Uploaded file"}, "commitment": {"申请人承诺", "Pledged"},
	},
	// Credit records and their repair (internal/credit).
	"credit_kind": {
		"false_commitment": {"虚假承诺", "False commitment"}, "overdue_supplement": {"容缺材料逾期未补交", "Deferred material not supplied in time"},
		"spot_check_failed": {"抽查不合格", "Failed a spot check"},
	},
	"credit_repair": {"pending": {"修复审核中", "Repair under review"}, "approved": {"已修复", "Repaired"}, "refused": {"修复未通过", "Repair refused"}},
}

// Label returns the words for a platform code of a kind in lang ("zh" or
// "en"). A code not in the table is returned as it is, so that the page
// crawl (cmd/yiwang/crawl_test.go) finds it on a Chinese page.
func Label(lang, kind, code string) string {
	l, ok := labels[kind][code]
	switch {
	case !ok:
		return code
	case lang == "en":
		return l[1]
	}
	return l[0]
}

// Codes lists every code of the table by kind, sorted, for tests that look
// for codes shown as they are.
func Codes() map[string][]string {
	out := map[string][]string{}
	for kind, codes := range labels {
		for c := range codes {
			out[kind] = append(out[kind], c)
		}
		sort.Strings(out[kind])
	}
	return out
}

// Actor names who did something in a timeline: the kind in words, then the
// person's name for people ("工作人员 窗口 陈静"); the machine and the system
// by their kind alone ("系统自动"), since their recorded names are codes of
// their own.
func Actor(lang, kind, name string) string {
	l := Label(lang, "actor", kind)
	switch kind {
	case "machine", "system", "cli":
		return l
	}
	if name == "" {
		return l
	}
	return l + " " + name
}

// ActorRef names the actor of a record kept as "kind:id" ("system:demo",
// "cli:root", "staff:10"): by the whole reference when the table has it,
// otherwise by its kind, with name (the account's, looked up by the caller;
// may be "") after it.
func ActorRef(lang, ref, name string) string {
	if _, ok := labels["actor"][ref]; ok {
		return Label(lang, "actor", ref)
	}
	kind, _, _ := strings.Cut(ref, ":")
	return Actor(lang, kind, name)
}
