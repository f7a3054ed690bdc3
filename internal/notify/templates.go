package notify

import (
	"strings"
)

// intros open a message sent outside the platform, in Chinese and English,
// by kind: the reader of an email or SMS sees at once why they are told,
// before the text the sending code wrote. Every kind has one (a test checks).
var intros = map[Kind][2]string{
	CopartyInvitation:   {"您被列为一项政务服务申请的共同申请人，请登录确认。", "You are named a party to an application for a government service; sign in to confirm."},
	CorrectionRequested: {"您的申请需要补正材料。", "Your application needs corrected materials."},
	DeadlineWarning:     {"有一项期限即将到期。", "A deadline is close."},
	Decision:            {"您的申请已有办理结果。", "Your application has a decision."},
	LicenceIssued:       {"您的电子证照已签发。", "Your e-licence has been issued."},
	AccountSecurity:     {"您的账号有一项安全提醒。", "A security notice about your account."},
	ServiceOffer:        {"您符合一项政务服务的条件，可一键办理。", "You qualify for a government service and can apply with one click."},
	RectificationAnswer: {"您对政务服务的差评已有整改答复。", "The department has answered your bad rating of a service."},
	ConsultationAnswer:  {"您的咨询或投诉已有答复。", "Your question or complaint has been answered."},
	SpotCheck:           {"有一项双随机抽查事项需要您处理。", "A spot check needs your attention."},
	SupervisionAlert:    {"电子监察提醒：本部门有需要督办的事项。", "E-supervision: your department has matters to attend to."},
}

// Text is a message as sent outside the platform — by email, SMS or to
// another system — from the template of its kind: the subject is Chinese,
// the body Chinese then English, each with the link made absolute on site
// (the platform's public address), so a person reads it in either language.
func (m Message) Text(site string) (subject, body string) {
	intro := intros[m.Kind]
	link := ""
	if m.Link != "" {
		link = strings.TrimRight(site, "/") + m.Link
	}
	var b strings.Builder
	section := func(intro, title, text, linkLabel string) {
		b.WriteString(intro + "\n\n" + title + "\n" + text + "\n")
		if link != "" {
			b.WriteString("\n" + linkLabel + link + "\n")
		}
	}
	section(intro[0], m.TitleZh, m.BodyZh, "办理地址：")
	b.WriteString("\n——\n\n")
	section(intro[1], m.TitleEn, m.BodyEn, "Link: ")
	b.WriteString("\n此消息由一网通办平台自动发送，请勿直接回复。\nSent automatically by the government services platform; do not reply.\n")
	return "【一网通办】" + m.TitleZh, b.String()
}
