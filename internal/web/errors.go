package web

import "yiwang/internal/apperr"

// errorTexts are the Chinese words for the service errors people meet on
// the pages, by apperr code; any other error shows its own (English)
// message.
var errorTexts = map[string]string{
	"no_consent":              "请勾选同意读取您的数据；不同意则无法为您自动填写表单。",
	"no_commitment":           "本事项实行告知承诺制，请勾选并签署告知承诺书后再提交。",
	"commitment_unsigned":     "本事项实行告知承诺制，请先签署告知承诺书再提交。",
	"commitment_text":         "承诺书内容与事项规定的不一致，请刷新页面后重新签署。",
	"commitment_changed":      "承诺内容在您阅读后已更新，请重新阅读后签署。",
	"no_pledge":               "请勾选“我承诺”后再提交。",
	"bad_parties":             "当事人信息有误，请按下列提示修改：",
	"parties_missing":         "请先填写全部当事人，再提交申请。",
	"name_mismatch":           "当事人姓名与该身份证号码登记的姓名不一致。",
	"no_parties":              "本事项没有其他当事人。",
	"not_deferrable":          "该材料不能容缺，请现在提供。",
	"due_passed":              "补交日期须晚于今天。",
	"bad_date":                "请按“年-月-日”选择补交日期。",
	"attached":                "该材料已提供，无需容缺。",
	"not_accepted":            "该材料不能以这种方式提供。",
	"not_editable":            "办件已进入办理环节，材料不能再修改。",
	"not_asked":               "补正通知没有要求补交该材料。",
	"from_government_data":    "该材料已从部门数据自动调取，无需再提供。",
	"material_not_found":      "本办件没有这项材料。",
	"not_a_draft":             "办件已提交，不能再修改。",
	"already_decided":         "办件已办结。",
	"stale_application":       "办件在此期间已有变化，请刷新页面后重试。",
	"incomplete":              "还有必填内容未填写：",
	"bad_form":                "以下内容未能识别，请修改：",
	"no_file":                 "请选择要上传的文件（不超过32MB）。",
	"no_correction":           "本办件没有待补正的内容。",
	"real_name_level_too_low": "本事项要求更高的实名认证等级：请到政务服务大厅窗口核验身份，或在自助终端刷脸认证后再办理。",
	"not_finished":            "办件办结后才能评价。",
	"already_rated":           "该办件已评价过，每件只能评价一次。",
	"application_not_found":   "没有找到该办件。",
	"bad_answers":             "情形选择不完整或有误，请按下列提示修改：",
	"bad_correction":          "补正通知有误，请按下列提示修改：",
	"bad_special_procedure":   "请选择特别程序（听证、检验检测、专家评审或现场勘查）并说明理由。",
	"bad_stars":               "请选择一至五颗星。",
	"cannot_work_task":        "您没有办理该环节的权限。",
	"clerks_verify":           "只有受理该办件的窗口人员才能标记扫描件已与原件核对。",
	"clock_stopped":           "办件处于补正或特别程序中，计时已暂停，待其结束后再办理。",
	"comment_too_long":        "评价内容过长，请精简。",
	"correction_incomplete":   "补正内容尚未全部提交。",
	"enterprise_item":         "该事项须由企业办理：请以企业经办人身份办理，或携带企业材料到窗口办理。",
	"head_only":               "只有部门负责人才能改派任务。",
	"materials_missing":       "还有必须提供的材料未提供（事项允许时可承诺容缺）：",
	"no_hall":                 "您的账号尚未分配到办事大厅，请联系系统管理员。",
	"not_a_step":              "该任务不属于审批环节，请使用其专门的操作办理。",
	"not_an_inspection":       "该任务不是告知承诺核查任务。",
	"not_an_objection":        "该任务不是公示异议审查任务。",
	"not_claimed":             "请先认领该任务再办理。",
	"not_this_stage":          "办件已不在该任务所属的环节，请刷新页面。",
	"outside_authorisation":   "您获得的授权不包括该事项。",
	"person_item":             "该事项须由本人办理：请先退出企业经办身份。",
	"person_not_found":        "没有查到该身份证号码的登记信息，请核对证件号码。",
	"task_claimed":            "该任务已由其他审查人员认领；请联系对方或部门负责人释放后再办理。",
	"task_done":               "该任务已办结。",
	"task_not_found":          "您的待办中没有该任务。",
	"deferral_unsigned":       "申请人须先签署按期补交该材料的承诺书，再勾选“申请人已在窗口签署上述承诺”。",
	"own_filing":              "不能对自己的备案提出异议；如不再办理，请撤回申请。",
	"reasons_required":        "请填写异议理由（不超过2000字）。",
	"reason_required":         "请填写拒绝的理由，申请人会收到。",
	"notice_ended":            "公示期已结束，不能再提出异议。",
	"notice_not_found":        "该公示不存在或已结束。",
	"persons_only":            "请以个人身份登录后办理。",
	"already_answered":        "您已答复过该邀请。",
}

// ErrorText is an error's message in the page's language.
func ErrorText(lang string, e *apperr.Error) string {
	if zh, ok := errorTexts[e.Code]; ok && lang != "en" {
		return zh
	}
	return e.Message
}
