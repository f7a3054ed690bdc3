package apperr

// The codes, grouped by the domain that mostly uses them. A code says what
// went wrong, not where: several packages share one code when a person
// would read the same words. Each code has its words in the table below;
// TestEveryCodeHasWords keeps the two in step.
const (
	// Every kind's own code, used when an error names no code of its own.
	InternalError          Code = "internal"
	InvalidRequest         Code = "invalid"
	NoSuchThing            Code = "not_found"
	StateConflict          Code = "conflict"
	NotSignedIn            Code = "unauthenticated"
	NotAllowed             Code = "forbidden"
	TooManyRequests        Code = "too_many_requests"
	TemporarilyUnavailable Code = "unavailable"

	// Requests: bodies, addresses and query parameters (httpx, server, pages).
	UnsupportedMediaType Code = "unsupported_media_type"
	BodyTooLarge         Code = "body_too_large"
	MalformedJSON        Code = "malformed_json"
	EmptyBody            Code = "empty_body"
	UnknownField         Code = "unknown_field"
	WrongType            Code = "wrong_type"
	BadID                Code = "bad_id"
	BadLimit             Code = "bad_limit"
	BadNumber            Code = "bad_number"
	ShuttingDown         Code = "shutting_down"
	AddressForbidden     Code = "address_forbidden"
	AddressInUse         Code = "address_in_use"
	BadAddress           Code = "bad_address"

	// Storage: the database and the data folder.
	BadDatabaseURL      Code = "bad_database_url"
	DataDir             Code = "data_dir"
	DatabaseCorrupt     Code = "database_corrupt"
	DatabaseReadOnly    Code = "database_read_only"
	DatabaseUnavailable Code = "database_unavailable"
	DatabaseBusy        Code = "database_busy"
	DatabaseUnopenable  Code = "database_unopenable"
	DatabaseUnreachable Code = "database_unreachable"

	// Accounts, sign-in, tokens and enterprises (identity, oidc).
	AccountDisabled         Code = "account_disabled"
	AccountLocked           Code = "account_locked"
	AccountNotFound         Code = "account_not_found"
	AlreadyExists           Code = "already_exists"
	AlreadyRevoked          Code = "already_revoked"
	BadAuthorization        Code = "bad_authorization"
	BadCredentials          Code = "bad_credentials"
	SignInBusy              Code = "sign_in_busy"
	BadCreditCode           Code = "bad_credit_code"
	BadExpiry               Code = "bad_expiry"
	BadIDNumber             Code = "bad_id_number"
	BadLevel                Code = "bad_level"
	BadEnterpriseName       Code = "bad_enterprise_name"
	BadName                 Code = "bad_name"
	BadPhone                Code = "bad_phone"
	BadToken                Code = "bad_token"
	BadUsername             Code = "bad_username"
	CSRFMismatch            Code = "csrf_mismatch"
	CSRFMissing             Code = "csrf_missing"
	DepartmentRequired      Code = "department_required"
	EnterpriseNotActive     Code = "enterprise_not_active"
	EnterpriseNotFound      Code = "enterprise_not_found"
	LegalRepresentativeOnly Code = "legal_representative_only"
	NameMismatch            Code = "name_mismatch"
	NameRequired            Code = "name_required"
	NotASystemAccount       Code = "not_a_system_account"
	NotAuthorised           Code = "not_authorised"
	OIDCNoIDNumber          Code = "oidc_no_id_number"
	PasswordTooLong         Code = "password_too_long"
	PasswordTooShort        Code = "password_too_short"
	PersonNotFound          Code = "person_not_found"
	PersonsOnly             Code = "persons_only"
	RateLimited             Code = "rate_limited"
	RoleNotHeld             Code = "role_not_held"
	ScopesRequired          Code = "scopes_required"
	SelfAuthorisation       Code = "self_authorisation"
	SelfGrant               Code = "self_grant"
	TokenExpired            Code = "token_expired"
	TokenNotFound           Code = "token_not_found"
	TokenRevoked            Code = "token_revoked"
	UnknownReference        Code = "unknown_reference"
	UnknownRole             Code = "unknown_role"
	UnknownScope            Code = "unknown_scope"
	AuthorisationNotFound   Code = "authorisation_not_found"
	OIDCConfigInvalid       Code = "oidc_config_invalid"
	OIDCDenied              Code = "oidc_denied"
	OIDCDiscoveryFailed     Code = "oidc_discovery_failed"
	OIDCExchangeFailed      Code = "oidc_exchange_failed"
	OIDCNonceMismatch       Code = "oidc_nonce_mismatch"
	OIDCProviderError       Code = "oidc_provider_error"
	OIDCStateMismatch       Code = "oidc_state_mismatch"
	OIDCTokenInvalid        Code = "oidc_token_invalid"

	// Permissions (authz).
	PermissionDenied    Code = "permission_denied"
	SignInRequired      Code = "sign_in_required"
	RealNameLevelTooLow Code = "real_name_level_too_low"
	OutsideScope        Code = "outside_scope"

	// Personal data (pii).
	BadField          Code = "bad_field"
	FieldsRequired    Code = "fields_required"
	PIICannotOpen     Code = "pii_cannot_open"
	PIICipher         Code = "pii_cipher"
	PIIKeyDerivation  Code = "pii_key_derivation"
	PIIKeyLength      Code = "pii_key_length"
	PIIKeyMismatch    Code = "pii_key_mismatch"
	PIIKeyMissing     Code = "pii_key_missing"
	PIIKeyNotBase64   Code = "pii_key_not_base64"
	PIIKeyRandom      Code = "pii_key_random"
	PIIMalformed      Code = "pii_malformed"
	PIISeal           Code = "pii_seal"
	PIIUnknownVersion Code = "pii_unknown_version"
	PurposeRequired   Code = "purpose_required"
	PurposeTooLong    Code = "purpose_too_long"
	StaffRequired     Code = "staff_required"
	SubjectRequired   Code = "subject_required"

	// The government directory: regions, departments, halls (org).
	DepartmentNotFound Code = "department_not_found"
	HallIncomplete     Code = "hall_incomplete"
	HallNotFound       Code = "hall_not_found"
	UnknownRegion      Code = "unknown_region"
	WindowIncomplete   Code = "window_incomplete"

	// The service catalogue (catalog).
	AlreadyRetired     Code = "already_retired"
	ArchiveTooLarge    Code = "archive_too_large"
	BundleNotFound     Code = "bundle_not_found"
	BundleCaseNotFound Code = "bundle_case_not_found"
	BadVersion         Code = "bad_version"
	CatalogueInvalid   Code = "catalogue_invalid"
	ItemNotFound       Code = "item_not_found"
	NeverPublished     Code = "never_published"
	NoDepartmentsFile  Code = "no_departments_file"
	NoDraft            Code = "no_draft"
	NotAZip            Code = "not_a_zip"
	RulesInvalid       Code = "rules_invalid"
	TryInputInvalid    Code = "try_input_invalid"
	UploadTooLarge     Code = "upload_too_large"
	VersionNotFound    Code = "version_not_found"
	NotADraft          Code = "not_a_draft"

	// 我要问、我要投诉: questions, complaints, reports, suggestions (consult).
	ConsultationNotFound    Code = "consultation_not_found"
	ConsultationTarget      Code = "consultation_target"
	ConsultationKind        Code = "consultation_kind"
	ConsultationText        Code = "consultation_text"
	ConsultationRating      Code = "consultation_rating"
	ConsultationNotAnswered Code = "consultation_not_answered"
	ConsultationRated       Code = "consultation_rated"
	ConsultationClosed      Code = "consultation_closed"
	ConsultationAnswer      Code = "consultation_answer"

	// The data sharing hub (hub).
	ConsentExpired       Code = "consent_expired"
	ConsentIncomplete    Code = "consent_incomplete"
	NoConsent            Code = "no_consent"
	SourceNotConsented   Code = "source_not_consented"
	UnknownSource        Code = "unknown_source"
	HubHTTPConfigInvalid Code = "hub_http_config_invalid"

	// Search (search).
	DocWithoutCode Code = "doc_without_code"
	DuplicateCode  Code = "duplicate_code"
	EmptyQuery     Code = "empty_query"
	QueryTooLong   Code = "query_too_long"
	SearchClosed   Code = "search_closed"

	// The working-day calendar (workday).
	BadYear              Code = "bad_year"
	CalendarInvalid      Code = "calendar_invalid"
	CalendarYearNotFound Code = "calendar_year_not_found"
	NegativeTimeLimit    Code = "negative_time_limit"
	YearMismatch         Code = "year_mismatch"
	BadFromDate          Code = "bad_from_date"
	BadWorkingDays       Code = "bad_working_days"
	FromYearNotLoaded    Code = "from_year_not_loaded"

	// Uploaded files (blob).
	BadDigest            Code = "bad_digest"
	BlobBucketMissing    Code = "blob_bucket_missing"
	BlobNotFound         Code = "blob_not_found"
	BlobStoreDenied      Code = "blob_store_denied"
	BlobStoreUnavailable Code = "blob_store_unavailable"
	BadBlobStore         Code = "bad_blob_store"
	EmptyFile            Code = "empty_file"
	FileRejected         Code = "file_rejected"
	FileTooLarge         Code = "file_too_large"
	ScanFailed           Code = "scan_failed"
	UnsupportedType      Code = "unsupported_type"
	UploadInterrupted    Code = "upload_interrupted"

	// E-licences and their shares (licence).
	BadLicenceNumberPart     Code = "bad_licence_number_part"
	BadLicenceRequest        Code = "bad_licence_request"
	BadShare                 Code = "bad_share"
	FileMissing              Code = "file_missing"
	IssuerWithoutCreditCode  Code = "issuer_without_credit_code"
	LicenceAlreadyRevoked    Code = "licence_already_revoked"
	LicenceEnded             Code = "licence_ended"
	LicenceIssuedElsewhere   Code = "licence_issued_elsewhere"
	LicenceNotFound          Code = "licence_not_found"
	LicenceNotInForce        Code = "licence_not_in_force"
	LicenceNotText           Code = "licence_not_text"
	NoLicenceInForce         Code = "no_licence_in_force"
	LicenceSequenceExhausted Code = "licence_sequence_exhausted"
	LicenceTypeWithoutCode   Code = "licence_type_without_code"
	NotALicenceFile          Code = "not_a_licence_file"
	PDFWithoutLicence        Code = "pdf_without_licence"
	RevokeReasonMissing      Code = "revoke_reason_missing"
	ShareNotFound            Code = "share_not_found"
	ShareEnded               Code = "share_ended"
	UnknownLicenceType       Code = "unknown_licence_type"

	// Seal keys (seal).
	SealKeyNotFound Code = "seal_key_not_found"
	SealKeyRetired  Code = "seal_key_retired"
	SealKeySealed   Code = "seal_key_sealed"
	SealKeygen      Code = "seal_keygen"
	SealSign        Code = "seal_sign"

	// Messages (notify).
	BadBefore            Code = "bad_before"
	BadUnread            Code = "bad_unread"
	BadMessage           Code = "bad_message"
	NotificationNotFound Code = "notification_not_found"
	RecipientMismatch    Code = "recipient_mismatch"
	BadEmail             Code = "bad_email"
	ChannelNotOffered    Code = "channel_not_offered"
	BadRetry             Code = "bad_retry"
	AlreadyDelivered     Code = "already_delivered"

	// Self-service terminals (kiosk).
	BadPIN    Code = "bad_pin"
	NoAccount Code = "no_account"
	PINLocked Code = "pin_locked"

	// The citizen site: commitments, ratings (portal).
	AlreadyRated      Code = "already_rated"
	BadStars          Code = "bad_stars"
	CommentTooLong    Code = "comment_too_long"
	CommitmentChanged Code = "commitment_changed"
	NoPledge          Code = "no_pledge"
	NotFinished       Code = "not_finished"

	// Ratings and rectification (好差评, rating).
	BadPeriod             Code = "bad_period"
	BadRatingToken        Code = "bad_rating_token"
	BadVerdict            Code = "bad_verdict"
	AnswerRequired        Code = "answer_required"
	CallbackNoteRequired  Code = "callback_note_required"
	RatingChangedOnce     Code = "rating_changed_once"
	RatingClosed          Code = "rating_closed"
	RectificationNotFound Code = "rectification_not_found"
	RectificationState    Code = "rectification_state"
	VerdictGiven          Code = "verdict_given"

	// Staff pages (workbench).
	DeferralUnsigned         Code = "deferral_unsigned"
	NoAssignee               Code = "no_assignee"
	NothingTicked            Code = "nothing_ticked"
	OwnAdminRole             Code = "own_admin_role"
	CorrectionReasonRequired Code = "correction_reason_required"

	// Applications: the apply wizard, modes, materials and the back office (application).
	AlreadyAnswered            Code = "already_answered"
	AlreadyDecided             Code = "already_decided"
	NotGranted                 Code = "not_granted"
	AlreadyDeclined            Code = "already_declined"
	ApplicationNotFound        Code = "application_not_found"
	InvitationNotFound         Code = "invitation_not_found"
	Attached                   Code = "attached"
	BadAnswers                 Code = "bad_answers"
	BadChannel                 Code = "bad_channel"
	BadCorrection              Code = "bad_correction"
	BadDate                    Code = "bad_date"
	BadForm                    Code = "bad_form"
	BadIdempotencyKey          Code = "bad_idempotency_key"
	BadIfMatch                 Code = "bad_if_match"
	BadOutcome                 Code = "bad_outcome"
	BadParties                 Code = "bad_parties"
	BadResult                  Code = "bad_result"
	BadSpecialProcedure        Code = "bad_special_procedure"
	CannotWorkTask             Code = "cannot_work_task"
	ClerksVerify               Code = "clerks_verify"
	ClockStopped               Code = "clock_stopped"
	CommitmentText             Code = "commitment_text"
	CommitmentUnsigned         Code = "commitment_unsigned"
	ConsentRequired            Code = "consent_required"
	CorrectionIncomplete       Code = "correction_incomplete"
	DecisionNotFound           Code = "decision_not_found"
	DuePassed                  Code = "due_passed"
	EnterpriseItem             Code = "enterprise_item"
	FromGovernmentData         Code = "from_government_data"
	HeadOnly                   Code = "head_only"
	IdempotencyKeyReused       Code = "idempotency_key_reused"
	IdempotencyKeyRequired     Code = "idempotency_key_required"
	IdentityAndConsentRequired Code = "identity_and_consent_required"
	IdentityCardNotChecked     Code = "identity_card_not_checked"
	Incomplete                 Code = "incomplete"
	MaterialNotFound           Code = "material_not_found"
	MaterialsMissing           Code = "materials_missing"
	NoCommitment               Code = "no_commitment"
	NoCorrection               Code = "no_correction"
	NoFile                     Code = "no_file"
	NoHall                     Code = "no_hall"
	NoParties                  Code = "no_parties"
	NotAStep                   Code = "not_a_step"
	NotAccepted                Code = "not_accepted"
	NotAllowedNow              Code = "not_allowed_now"
	NotAnInspection            Code = "not_an_inspection"
	NotAnObjection             Code = "not_an_objection"
	NotAsked                   Code = "not_asked"
	OnlyPersonSigns            Code = "only_person_signs"
	NotClaimed                 Code = "not_claimed"
	NotDeferrable              Code = "not_deferrable"
	NotEditable                Code = "not_editable"
	NotThisStage               Code = "not_this_stage"
	NoticeEnded                Code = "notice_ended"
	NoticeNotFound             Code = "notice_not_found"
	OutsideAuthorisation       Code = "outside_authorisation"
	OwnFiling                  Code = "own_filing"
	PartiesMissing             Code = "parties_missing"
	PersonItem                 Code = "person_item"
	StaleApplication           Code = "stale_application"
	TaskClaimed                Code = "task_claimed"
	TaskDone                   Code = "task_done"
	TaskNotFound               Code = "task_not_found"
	ReasonsRequired            Code = "reasons_required"
	ReasonRequired             Code = "reason_required"
	RejectionReasonsRequired   Code = "rejection_reasons_required"
	UpholdReasonsRequired      Code = "uphold_reasons_required"
	InspectionNoteRequired     Code = "inspection_note_required"
	RevocationReasonRequired   Code = "revocation_reason_required"
	SwitchReasonRequired       Code = "switch_reason_required"

	// Credit levels, lists and repair (credit).
	CreditBlacklisted       Code = "credit_blacklisted"
	CreditRecordNotFound    Code = "credit_record_not_found"
	CreditRepairNotFound    Code = "credit_repair_not_found"
	CreditAlreadyRepaired   Code = "credit_already_repaired"
	CreditRepairPending     Code = "credit_repair_pending"
	CreditRepairDecided     Code = "credit_repair_decided"
	CreditRepairTooEarly    Code = "credit_repair_too_early"
	CreditPledgeRequired    Code = "credit_pledge_required"
	CreditStatementRequired Code = "credit_statement_required"
	// Spot checks (双随机一公开, application/spotchecks.go).
	SpotCheckNotFound Code = "spot_check_not_found"
	NotYourSpotCheck  Code = "not_your_spot_check"
	SpotCheckDone     Code = "spot_check_done"
	SpotCheckNotLate  Code = "spot_check_not_late"
	NoInspector       Code = "no_inspector"
	FindingsRequired  Code = "findings_required"
	BadSpotStatus     Code = "bad_spot_status"
	BadSpotResult     Code = "bad_spot_result"
	BadMonth          Code = "bad_month"
	// The supervisors' board and its alerts (supervision).
	NothingToAlert Code = "nothing_to_alert"
	AlreadyAlerted Code = "already_alerted"

	// Rule-change simulations (simulate).
	SimulationNotFound Code = "simulation_not_found"
	BadSince           Code = "bad_since"
	VersionNotOfItem   Code = "version_not_of_item"
	RulesDoNotCompile  Code = "rules_do_not_compile"

	// The service-performance dashboard (insight).
	BadInsightPeriod Code = "bad_insight_period"
	BadInsightRange  Code = "bad_insight_range"
	InsightOtherDept Code = "insight_other_department"
)

// words is the one table of what people read for each code: what went
// wrong and, where it helps, what to do next. It is never changed at run
// time; read it through Code.Words.
var words = map[Code]Words{
	// Every kind's own code, used when an error names no code of its own.
	InternalError:          {Zh: "系统内部出错，请稍后重试；如仍有问题，请向工作人员提供请求编号。", En: "Something went wrong on our side. Try again later; if it keeps happening, quote the request ID."},
	InvalidRequest:         {Zh: "提交的内容有误，请检查后重新提交。", En: "Something in the request is wrong. Check it and send it again."},
	NoSuchThing:            {Zh: "没有找到您要的内容。", En: "What you asked for was not found."},
	StateConflict:          {Zh: "当前状态下不能进行这项操作，请刷新页面后查看。", En: "This cannot be done in the current state. Reload and check."},
	NotSignedIn:            {Zh: "请先登录。", En: "Sign in first."},
	NotAllowed:             {Zh: "您没有办理这项操作的权限。", En: "You may not do this."},
	TooManyRequests:        {Zh: "操作过于频繁，请稍后再试。", En: "Too many attempts. Wait a little and try again."},
	TemporarilyUnavailable: {Zh: "服务暂时不可用，请稍后再试。", En: "The service is unavailable for now. Try again in a few minutes."},

	// Requests: bodies, addresses and query parameters (httpx, server, pages).
	UnsupportedMediaType: {Zh: "请求内容格式不支持，请以JSON格式提交。", En: "Send the body as JSON (application/json)."},
	BodyTooLarge:         {Zh: "提交的内容过大，请精简后重试。", En: "The request body is too large. Send less and try again."},
	MalformedJSON:        {Zh: "提交的内容不是有效的JSON格式。", En: "The body is not valid JSON."},
	EmptyBody:            {Zh: "请求内容为空，请填写后再提交。", En: "The request body is empty. Send a JSON object."},
	UnknownField:         {Zh: "提交的内容中有无法识别的项目。", En: "The body has a field this request does not take."},
	WrongType:            {Zh: "提交的内容中有项目格式不对。", En: "A field in the body has the wrong type."},
	BadID:                {Zh: "网址中的编号有误，请从列表中重新打开。", En: "The number in the address is not valid. Open it again from the list."},
	BadLimit:             {Zh: "每页条数有误，请填写1至100之间的整数。", En: "The limit must be a whole number from 1 to 100."},
	BadNumber:            {Zh: "请填写数字。", En: "Give a number."},
	ShuttingDown:         {Zh: "系统正在维护重启，请稍后再试。", En: "The service is restarting. Try again in a moment."},
	AddressForbidden:     {Zh: "服务无法在配置的地址上启动：没有使用该端口的权限。", En: "The server may not listen on the configured address. Choose a port it may use."},
	AddressInUse:         {Zh: "服务无法启动：配置的地址已被占用。", En: "The configured address is already in use. Stop the other process or choose another address."},
	BadAddress:           {Zh: "配置的监听地址格式有误。", En: "The listen address is not valid. Give it as host:port, for example :8080."},

	// Storage: the database and the data folder.
	BadDatabaseURL:      {Zh: "数据库连接地址格式有误。", En: "The database URL is not understood. Use postgres://user@host:5432/db, sqlite:PATH, or leave it empty."},
	DataDir:             {Zh: "数据目录无法使用，请检查目录是否存在及读写权限。", En: "The data folder cannot be used. Check that it exists and may be written."},
	DatabaseCorrupt:     {Zh: "数据库文件已损坏，请从备份恢复。", En: "The database file is damaged. Restore it from a backup."},
	DatabaseReadOnly:    {Zh: "数据库处于只读状态，暂时无法保存。", En: "The database is read-only, so nothing can be saved. Check its file permissions."},
	DatabaseBusy:        {Zh: "系统繁忙，您的操作未保存，请稍后重试。", En: "The system is busy and did not save this. Try again in a moment."},
	DatabaseUnavailable: {Zh: "数据库暂时无法访问，请稍后再试。", En: "The database does not answer. Try again in a few minutes."},
	DatabaseUnopenable:  {Zh: "数据库无法打开，请检查配置。", En: "The database cannot be opened. Check the configuration."},
	DatabaseUnreachable: {Zh: "无法连接数据库，请检查网络和数据库服务。", En: "The database cannot be reached. Check the network and the database server."},

	// Accounts, sign-in, tokens and enterprises (identity, oidc).
	AccountDisabled:         {Zh: "该账号已停用，请联系系统管理员。", En: "This account is disabled. Ask your administrator."},
	AccountLocked:           {Zh: "登录失败次数过多，账号已暂时锁定；请稍后再试，或到政务服务大厅解锁。", En: "Too many failed sign-ins: the account is locked for a while. Wait, or ask a service hall to unlock it."},
	AccountNotFound:         {Zh: "没有找到该账号。", En: "There is no such account."},
	AlreadyExists:           {Zh: "该身份证号码已注册账号，请直接登录；忘记密码可到政务服务大厅重置。", En: "An account for this ID number exists already. Sign in, or reset its password at a service hall."},
	AlreadyRevoked:          {Zh: "该接口令牌已作废。", En: "This API token is already revoked."},
	BadAuthorization:        {Zh: "接口令牌的发送格式有误。", En: "Send the API token as Authorization: Bearer TOKEN."},
	SignInBusy:              {Zh: "同时登录的人数过多，请几秒后再试。", En: "Too many sign-ins at once. Try again in a few seconds."},
	BadCredentials:          {Zh: "账号或密码错误，请重新输入。", En: "The sign-in name or password is wrong."},
	BadCreditCode:           {Zh: "统一社会信用代码有误，请核对营业执照。", En: "The unified social credit code is not valid. Check it against the business licence."},
	BadExpiry:               {Zh: "有效期须晚于今天，且不超过三年。", En: "The expiry must be in the future and within three years."},
	BadIDNumber:             {Zh: "身份证号码有误，请核对证件。", En: "The resident ID number is not valid. Check it against the identity card."},
	BadLevel:                {Zh: "实名认证等级只能是一级、二级或三级。", En: "Real-name levels are 1, 2 and 3."},
	BadEnterpriseName:       {Zh: "请按营业执照填写企业名称（1至100个字，不含不可见字符）。", En: "Give the enterprise's name as on its business licence (1 to 100 characters, nothing invisible)."},
	BadName:                 {Zh: "请按身份证填写姓名（1至50个字，不含不可见字符）。", En: "Give the name as on the ID card (1 to 50 characters, nothing invisible)."},
	BadPhone:                {Zh: "请填写以1开头的11位手机号码。", En: "Give an 11-digit mobile number starting with 1."},
	BadToken:                {Zh: "接口令牌无效：请检查是否完整复制，或重新申请。", En: "The API token is not valid. Check it was copied whole, or ask for a new one."},
	BadUsername:             {Zh: "用户名须为3至40位小写字母、数字、点、横线或下划线。", En: "A username has 3 to 40 lower-case letters, digits, dots, dashes or underscores."},
	CSRFMismatch:            {Zh: "页面已过期，请刷新页面后重试。", En: "The page has expired. Reload it and try again."},
	CSRFMissing:             {Zh: "页面已过期，请刷新页面后重试。", En: "The request lacks its form token. Reload the page and try again."},
	DepartmentRequired:      {Zh: "工作人员须归属一个部门和一个区划，请两项都填写。", En: "Staff belong to a department and a region. Give both."},
	EnterpriseNotActive:     {Zh: "该企业在企业登记信息中不是存续状态，不能申请。", En: "The enterprise is not active in the enterprise registry and cannot apply."},
	EnterpriseNotFound:      {Zh: "企业登记信息中没有该统一社会信用代码的企业，请核对。", En: "No enterprise with this credit code is in the registry. Check the code."},
	LegalRepresentativeOnly: {Zh: "只有法定代表人以企业身份才能办理授权。", En: "Only the legal representative, acting for the enterprise, may manage its authorisations."},
	NameMismatch:            {Zh: "当事人姓名与该身份证号码登记的姓名不一致。", En: "The name does not match the one on record for this ID number. Give it exactly as on the ID card."},
	NameRequired:            {Zh: "请为接口令牌起一个名称，写明由哪个系统使用。", En: "Name the token after what uses it."},
	NotASystemAccount:       {Zh: "接口令牌只能发给其他系统的账号。", En: "API tokens are only for other systems' accounts."},
	NotAuthorised:           {Zh: "您不是该企业的法定代表人，也没有有效授权；请联系其法定代表人为您授权。", En: "You are not the enterprise's legal representative and hold no current authorisation from it. Ask its legal representative to authorise you."},
	OIDCNoIDNumber:          {Zh: "统一身份认证平台没有提供您的身份证号码，本网站无法确认您的身份；请允许提供，或在本网站注册。", En: "The identity platform did not share your ID number, which this site needs. Allow it to, or register here."},
	PasswordTooLong:         {Zh: "密码过长，请不超过200个字节。", En: "The password is too long: at most 200 bytes."},
	PasswordTooShort:        {Zh: "密码至少需要10个字符。", En: "A password needs at least 10 characters."},
	PersonNotFound:          {Zh: "没有查到该身份证号码的登记信息，请核对证件号码。", En: "Nobody with this ID number is registered. Check the number on the identity card."},
	PersonsOnly:             {Zh: "请以个人身份登录后办理。", En: "Sign in as a person to do this."},
	RateLimited:             {Zh: "操作过于频繁，请稍后再试。", En: "Limit reached. Wait a little and try again."},
	RoleNotHeld:             {Zh: "该账号没有这个角色。", En: "The account does not hold this role."},
	ScopesRequired:          {Zh: "请至少选择一项令牌权限范围。", En: "Give at least one token scope."},
	SelfAuthorisation:       {Zh: "法定代表人无需授权自己。", En: "The legal representative needs no authorisation."},
	SelfGrant:               {Zh: "不能给自己授予角色，请由其他管理员办理。", En: "You cannot grant yourself a role: another administrator must."},
	TokenExpired:            {Zh: "接口令牌已过期，请重新申请。", En: "This API token has expired. Ask for a new one."},
	TokenNotFound:           {Zh: "没有找到该接口令牌。", En: "There is no such API token."},
	TokenRevoked:            {Zh: "接口令牌已作废，请重新申请。", En: "This API token was revoked. Ask for a new one."},
	UnknownReference:        {Zh: "填写的部门、区划或大厅不存在。", En: "A department, region or hall given does not exist."},
	UnknownRole:             {Zh: "没有这个角色。", En: "There is no such role."},
	AuthorisationNotFound:   {Zh: "没有找到该授权。", En: "There is no such authorisation."},
	UnknownScope:            {Zh: "没有这个令牌权限范围。", En: "There is no such token scope."},
	OIDCConfigInvalid:       {Zh: "统一身份认证的配置有误，请联系系统管理员。", En: "The OpenID Connect sign-in is not set up correctly. Tell the administrator."},
	OIDCDenied:              {Zh: "您没有同意本网站使用统一身份认证平台的身份信息，因此未能登录；如需登录，请重新开始并选择同意。", En: "You did not allow this site to use your identity, so you are not signed in. To sign in, start again and allow it."},
	OIDCDiscoveryFailed:     {Zh: "暂时无法连接统一身份认证平台，请稍后再试。", En: "The identity provider cannot be reached. Try again in a few minutes."},
	OIDCExchangeFailed:      {Zh: "统一身份认证登录未能完成，请重新登录。", En: "Signing in with the identity provider did not finish. Start signing in again."},
	OIDCNonceMismatch:       {Zh: "登录信息不匹配，请重新登录。", En: "The identity provider's answer belongs to a different sign-in. Start signing in again."},
	OIDCProviderError:       {Zh: "统一身份认证平台暂时无法为您登录，请稍后再试。", En: "The identity provider could not sign you in. Try again in a few minutes."},
	OIDCStateMismatch:       {Zh: "登录已超时或不是在本浏览器发起的，请重新登录。", En: "This sign-in was not started in this browser or took longer than 10 minutes. Start signing in again."},
	OIDCTokenInvalid:        {Zh: "无法核验统一身份认证平台返回的信息，未能登录；请重新登录，如仍失败请提供请求编号。", En: "The identity provider's answer could not be verified. Start signing in again; if it keeps failing, report it with the request ID."},

	// Permissions (authz).
	PermissionDenied:    {Zh: "您的账号没有办理这项操作的权限。", En: "Your account may not do this."},
	SignInRequired:      {Zh: "请先登录后再办理。", En: "Sign in first: this needs an account."},
	RealNameLevelTooLow: {Zh: "本事项要求更高的实名认证等级：在自助终端凭身份证登录或通过统一身份认证平台登录可达二级，携带身份证到政务服务大厅窗口当面核验可达三级；“我的账号”页面写明了您现在的等级。", En: "This service needs a higher real-name level. Signing in at a self-service kiosk with your identity card, or through the unified identity platform, gives level 2; having your identity card checked in person at a service hall window gives level 3. Your account page shows your level now."},
	OutsideScope:        {Zh: "该事项不能在本大厅办理：本大厅不在该事项的通办范围内。", En: "This item cannot be handled at this hall: the hall is outside the item's scope."},

	// Personal data (pii).
	BadField:          {Zh: "个人信息字段名称有误。", En: "A personal-data field name is empty or contains a comma or space."},
	FieldsRequired:    {Zh: "请说明查看了哪些个人信息项目。", En: "Say which personal-data fields were shown."},
	PIICannotOpen:     {Zh: "个人信息无法解密，请联系系统管理员检查密钥配置。", En: "Encrypted personal data cannot be opened. Tell the administrator to check the key."},
	PIICipher:         {Zh: "个人信息加密无法启用，请联系系统管理员。", En: "Personal-data encryption cannot be set up. Tell the administrator."},
	PIIKeyDerivation:  {Zh: "个人信息加密无法启用，请联系系统管理员。", En: "The personal-data keys cannot be derived. Tell the administrator."},
	PIIKeyLength:      {Zh: "个人信息主密钥长度不对，请检查是否完整复制，或重新生成。", En: "The personal-data master key has the wrong length. Check it was copied whole, or generate a new one."},
	PIIKeyMismatch:    {Zh: "个人信息主密钥与本数据库初始化时所用的不一致，请配置原来的密钥。", En: "The personal-data key does not match the one this database was set up with. Configure the original key."},
	PIIKeyMissing:     {Zh: "没有配置个人信息主密钥，请生成后与其他密钥一同妥善保管。", En: "No personal-data master key is configured. Generate one and keep it with the other secrets."},
	PIIKeyNotBase64:   {Zh: "个人信息主密钥格式有误，请按生成时的原样填写。", En: "The personal-data master key is not valid base64. Give it exactly as generated."},
	PIIKeyRandom:      {Zh: "无法生成个人信息主密钥，请联系系统管理员。", En: "A personal-data master key cannot be generated: the random source failed."},
	PIIMalformed:      {Zh: "已加密的个人信息已损坏，请联系系统管理员。", En: "An encrypted personal-data value is damaged. Tell the administrator."},
	PIISeal:           {Zh: "个人信息加密失败，请稍后重试。", En: "Personal data cannot be encrypted now. Try again later."},
	PIIUnknownVersion: {Zh: "已加密的个人信息格式无法识别，请联系系统管理员。", En: "An encrypted personal-data value has an unknown format. Tell the administrator."},
	PurposeRequired:   {Zh: "请说明查看完整个人信息的用途（如：核对户籍材料），每次查看都会记录备查。", En: "Say why you need to see the full personal data (for example, checking household papers); every view is logged."},
	PurposeTooLong:    {Zh: "用途说明过长，请精简。", En: "The stated purpose is too long. Shorten it."},
	StaffRequired:     {Zh: "查看记录须写明查看的工作人员。", En: "A personal-data access must name the staff member who viewed it."},
	SubjectRequired:   {Zh: "查看记录须写明被查看的当事人。", En: "A personal-data access must name the person whose data was viewed."},

	// 我要问、我要投诉 (consult).
	ConsultationNotFound:    {Zh: "没有找到该咨询或投诉：查询码有误，或不在您的记录中。", En: "Nothing found: the query code is wrong, or it is not among yours."},
	ConsultationTarget:      {Zh: "请选择所涉及的事项或部门（投诉、举报、建议请选择所属领域）。", En: "Choose the item or department it is about (for a complaint, report or suggestion, its subject area)."},
	ConsultationKind:        {Zh: "请选择类别：咨询、投诉、举报或建议。", En: "Choose what it is: a question, complaint, report or suggestion."},
	ConsultationText:        {Zh: "请填写具体内容（5至2000字）。", En: "Write what it is about (5 to 2000 characters)."},
	ConsultationRating:      {Zh: "请选择满意或不满意。", En: "Choose satisfied or not satisfied."},
	ConsultationNotAnswered: {Zh: "部门答复后才能评价。", En: "You can rate the answer once the department has answered."},
	ConsultationRated:       {Zh: "已评价过，每件只能评价一次。", En: "This has been rated already; a rating is given once."},
	ConsultationClosed:      {Zh: "该件已办结，不能再答复。", En: "This has been closed and takes no more answers."},
	ConsultationAnswer:      {Zh: "请填写答复内容（不超过2000字）；尚未答复的须先答复再办结。", En: "Write the answer (up to 2000 characters); one never answered needs an answer before it is closed."},

	// The government directory: regions, departments, halls (org).
	DepartmentNotFound: {Zh: "没有找到该部门。", En: "There is no such department."},
	HallIncomplete:     {Zh: "办事大厅须填写编码和中文名称。", En: "A hall needs a code and a Chinese name."},
	HallNotFound:       {Zh: "没有找到该办事大厅。", En: "There is no such hall."},
	UnknownRegion:      {Zh: "该行政区划不在目录中。", En: "The region is not in the directory."},
	WindowIncomplete:   {Zh: "窗口须填写编号和中文名称。", En: "A window needs a number and a Chinese name."},

	// The service catalogue (catalog).
	AlreadyRetired:     {Zh: "该事项已停用。", En: "The item is already retired."},
	BundleNotFound:     {Zh: "没有找到该“一件事”。", En: "There is no such bundle."},
	BundleCaseNotFound: {Zh: "在您的办件中没有找到该“一件事”办件。", En: "There is no such bundle application among yours."},
	ArchiveTooLarge:    {Zh: "压缩包解压后过大或文件过多，请只压缩事项库文件夹。", En: "The archive expands to too much data or too many files. Zip only the catalogue folder."},
	BadVersion:         {Zh: "版本号须为正整数。", En: "The version must be a whole number (1, 2, …)."},
	CatalogueInvalid:   {Zh: "事项库有错误，未导入任何内容，请按下列提示修改：", En: "The catalogue has problems and nothing was imported. Fix these:"},
	RulesInvalid:       {Zh: "该版本的规则无法编译，请按下列提示修改：", En: "The rules of this version do not compile. Fix these:"},
	TryInputInvalid:    {Zh: "试算数据有误，请按下列提示修改：", En: "The try-out's data cannot be used. Fix these:"},
	ItemNotFound:       {Zh: "没有找到该事项。", En: "There is no such service item."},
	NeverPublished:     {Zh: "该事项从未发布，无需停用。", En: "The item was never published, so there is nothing to retire."},
	NoDepartmentsFile:  {Zh: "压缩包中缺少部门目录文件，请直接压缩事项库文件夹。", En: "The archive has no departments file. Zip the catalogue folder itself."},
	NoDraft:            {Zh: "该事项没有待发布的草稿，请先导入修改后的版本。", En: "The item has no draft to publish. Import a changed version first."},
	NotAZip:            {Zh: "请以ZIP压缩包上传事项库文件夹。", En: "Send the catalogue folder as a zip archive."},
	UploadTooLarge:     {Zh: "上传的文件过大。", En: "The uploaded file is too large."},
	VersionNotFound:    {Zh: "没有找到该事项版本。", En: "There is no such item version."},
	NotADraft:          {Zh: "办件已提交，不能再修改。", En: "This is no longer a draft and cannot be changed."},

	// The data sharing hub (hub).
	ConsentExpired:       {Zh: "读取数据的授权已过期或已撤回，请重新授权。", En: "The consent to read this data has expired or was withdrawn. Authorise again."},
	ConsentIncomplete:    {Zh: "授权须写明数据来源和用途。", En: "A consent names the sources and the purpose."},
	NoConsent:            {Zh: "请勾选同意读取您的数据；不同意则无法为您自动填写表单。", En: "Tick the box to let the departments' data fill in your form; without it nothing can be read for you."},
	SourceNotConsented:   {Zh: "您的授权不包括这项数据。", En: "The consent does not cover this data source."},
	UnknownSource:        {Zh: "没有这个数据来源。", En: "There is no such data source."},
	HubHTTPConfigInvalid: {Zh: "部门数据接口的配置有误，请按下列提示修改：", En: "The HTTP connector's configuration has problems. Fix these:"},

	// Search (search).
	DocWithoutCode: {Zh: "检索数据中有事项缺少编码。", En: "A search document has no code."},
	DuplicateCode:  {Zh: "检索数据中有两个事项编码相同。", En: "Two search documents have the same code."},
	EmptyQuery:     {Zh: "请输入要搜索的内容，例如“落户”。", En: "Type a word to search for, for example 落户."},
	QueryTooLong:   {Zh: "搜索内容过长，请精简。", En: "The search query is too long. Shorten it."},
	SearchClosed:   {Zh: "搜索暂时不可用，请稍后再试。", En: "Search is unavailable for now. Try again later."},

	// The working-day calendar (workday).
	BadYear:              {Zh: "年份请写四位数字，例如2027。", En: "Write the year with four digits, for example 2027."},
	CalendarInvalid:      {Zh: "节假日安排文件有误，未作任何修改，请按下列提示修改：", En: "The calendar file has problems and nothing was changed. Fix these:"},
	CalendarYearNotFound: {Zh: "该年度的工作日安排尚未导入，请管理员按国务院办公厅通知导入。", En: "There is no working-day calendar for that year. An administrator loads it from the State Council's notice."},
	NegativeTimeLimit:    {Zh: "办理时限不能为负数。", En: "A time limit cannot be negative."},
	YearMismatch:         {Zh: "文件中的年度与网址中的年度不一致。", En: "The year in the body differs from the year in the address."},
	BadFromDate:          {Zh: "起算日期请按“年-月-日”填写，例如2027-03-01。", En: "Give the start date as YYYY-MM-DD, for example 2027-03-01."},
	BadWorkingDays:       {Zh: "工作日天数请填写0至365之间的整数。", En: "Give the number of working days as a whole number from 0 to 365."},
	FromYearNotLoaded:    {Zh: "起算日期所在年度的工作日安排尚未导入，无法计算，请管理员按国务院办公厅通知导入。", En: "There is no working-day calendar for the year of the start date. An administrator loads it from the State Council's notice."},

	// Uploaded files (blob).
	BadDigest:            {Zh: "文件摘要格式有误。", En: "A file digest is 64 lower-case hexadecimal characters."},
	BlobNotFound:         {Zh: "没有找到该文件。", En: "There is no such stored file."},
	BlobBucketMissing:    {Zh: "对象存储中没有配置的存储桶，请先创建该存储桶。", En: "The configured bucket does not exist in the object store. Create it first."},
	BlobStoreDenied:      {Zh: "对象存储拒绝了访问凭据，请检查访问密钥。", En: "The object store refused the credentials. Check the access key."},
	BlobStoreUnavailable: {Zh: "文件存储暂时无法访问，请稍后再试。", En: "The file store does not answer. Try again in a few minutes."},
	BadBlobStore:         {Zh: "材料文件存储的地址配置有误，请检查配置。", En: "The file store setting (--blob-url) is not valid. Check the configuration."},
	EmptyFile:            {Zh: "文件是空的，请重新选择文件上传。", En: "The file is empty. Choose it again and upload it."},
	FileRejected:         {Zh: "文件未通过安全检查，不能上传。", En: "The file was refused by the upload check."},
	FileTooLarge:         {Zh: "文件超过上传大小限制，请减少页数或降低扫描分辨率后重新上传。", En: "The file is larger than the upload limit. Make it smaller (fewer pages, or a lower scan resolution) and upload it again."},
	ScanFailed:           {Zh: "暂时无法检查该文件，请稍后再上传。", En: "The file could not be checked. Try again in a few minutes."},
	UnsupportedType:      {Zh: "只能上传PDF、JPEG、PNG或OFD格式的文件，请转换格式后重新上传。", En: "Upload a PDF, JPEG, PNG or OFD file. Save or scan it as one of those and upload it again."},
	UploadInterrupted:    {Zh: "上传中断，请重新上传。", En: "The upload broke off before the whole file arrived. Upload it again."},

	// E-licences and their shares (licence).
	BadLicenceNumberPart:     {Zh: "无法生成证照编号，请联系系统管理员。", En: "A licence number cannot be made. Tell the administrator."},
	BadLicenceRequest:        {Zh: "证照信息不完整，无法签发，请按下列提示修改：", En: "The licence cannot be issued. Fix these:"},
	BadShare:                 {Zh: "证照分享设置有误，请按下列提示修改：", En: "The licence cannot be shared. Fix these:"},
	FileMissing:              {Zh: "请选择要核验的证照文件。", En: "Choose the licence file to verify."},
	IssuerWithoutCreditCode:  {Zh: "发证部门没有统一社会信用代码，无法生成证照编号。", En: "The issuing department has no credit code, which licence numbers begin with."},
	LicenceAlreadyRevoked:    {Zh: "该证照已撤销。", En: "The licence was already revoked."},
	LicenceEnded:             {Zh: "该证照已失效（已注销或已被新证取代），不能再撤销。", En: "The licence is no longer in force (cancelled or superseded)."},
	LicenceIssuedElsewhere:   {Zh: "该证照由其他系统签发，不能在本平台签发。", En: "This licence is issued outside this platform."},
	LicenceNotFound:          {Zh: "没有找到该证照。", En: "There is no such licence."},
	LicenceNotInForce:        {Zh: "该证照已失效，不能分享。", En: "The licence is no longer in force and cannot be shared."},
	LicenceNotText:           {Zh: "证照内容格式有误。", En: "Every value of a licence's content must be text."},
	NoLicenceInForce:         {Zh: "持证人名下没有该类有效证照，无法注销或取代。", En: "The holder has no licence of this type in force to cancel or supersede."},
	LicenceSequenceExhausted: {Zh: "该类证照本年度编号已用完，请联系系统管理员。", En: "This licence type has used all its numbers for the year. Tell the administrator."},
	LicenceTypeWithoutCode:   {Zh: "该证照类型没有类型代码，无法生成证照编号。", En: "The licence type has no type code, which licence numbers need."},
	NotALicenceFile:          {Zh: "这不是证照文件，请上传从本平台下载的证照文件或PDF。", En: "This is not a licence file. Upload the licence file or the PDF downloaded from this platform."},
	PDFWithoutLicence:        {Zh: "该PDF不含证照信息，请上传从本平台下载的原始PDF。", En: "This PDF carries no licence. Upload the PDF as downloaded from this platform."},
	RevokeReasonMissing:      {Zh: "请填写注销证照的理由，持证人和核验人会看到。", En: "Give the reason for revoking the licence: the holder and verifiers see it."},
	ShareNotFound:            {Zh: "分享链接无效，请检查是否完整复制。", En: "There is no such share link. Check that the whole address was copied."},
	ShareEnded:               {Zh: "该分享链接已失效（已撤回或已到期），无需再撤回。", En: "This share link has already ended (withdrawn or expired)."},
	UnknownLicenceType:       {Zh: "没有这种证照类型。", En: "There is no such licence type."},

	// Seal keys (seal).
	SealKeyNotFound: {Zh: "没有找到该印章密钥。", En: "There is no such seal key."},
	SealKeyRetired:  {Zh: "该印章密钥已停用，请使用部门当前的印章。", En: "This seal key was retired. Seal with the department's current key."},
	SealKeySealed:   {Zh: "印章密钥无法解密，请联系系统管理员。", En: "A seal key cannot be opened. Tell the administrator."},
	SealKeygen:      {Zh: "无法生成印章密钥，请联系系统管理员。", En: "A seal key cannot be generated. Tell the administrator."},
	SealSign:        {Zh: "证照盖章失败，请稍后重试。", En: "The licence could not be sealed. Try again later."},

	// Messages (notify).
	BadBefore:            {Zh: "消息编号有误。", En: "before must be a message number."},
	BadUnread:            {Zh: "未读筛选条件有误。", En: "unread must be true or false."},
	NotificationNotFound: {Zh: "没有找到该消息。", En: "There is no such message."},
	BadMessage:           {Zh: "消息内容不完整，无法发送。", En: "The message is incomplete and cannot be sent."},
	RecipientMismatch:    {Zh: "消息的收件人不一致，请只指定一个。", En: "The message names two different recipients. Name one."},
	BadEmail:             {Zh: "请填写有效的电子邮箱地址。", En: "Give a valid email address such as name@example.cn."},
	ChannelNotOffered:    {Zh: "本平台暂不提供该通知方式。", En: "This platform does not offer that way of being notified."},
	BadRetry:             {Zh: "请选择要重新发送的通知：一条，或某一发送方式、某一类型的全部。", En: "Choose what to send again: one delivery, or all of a channel or a kind."},
	AlreadyDelivered:     {Zh: "该通知已经送达，无需重新发送。", En: "This notification was delivered; there is nothing to send again."},

	// Self-service terminals (kiosk).
	BadPIN:    {Zh: "身份证与密码不匹配，请重新输入六位密码。", En: "The ID card and PIN do not match. Enter the six-digit PIN again."},
	NoAccount: {Zh: "您还没有账号，请先注册。", En: "This person has no account. Register first."},
	PINLocked: {Zh: "密码错误次数过多，请稍后再试，或到窗口咨询。", En: "Too many wrong PINs. Try again later, or ask at the window."},

	// Ratings and rectification (好差评, rating).
	BadPeriod:             {Zh: "统计期间只能是本月、本年或全部。", En: "The period is this month, this year or all."},
	BadRatingToken:        {Zh: "评价链接无效，请重新扫描二维码或向窗口工作人员询问。", En: "This rating link is not valid. Scan the QR code again, or ask at the window."},
	BadVerdict:            {Zh: "请选择对整改结果满意或不满意。", En: "Say whether you are satisfied with the rectification or not."},
	AnswerRequired:        {Zh: "请填写部门采取的整改措施（不超过2000字）。", En: "Say what the department changed (up to 2000 characters)."},
	CallbackNoteRequired:  {Zh: "请记录回访情况（不超过2000字）。", En: "Write down what the person said on the call (up to 2000 characters)."},
	RatingChangedOnce:     {Zh: "评价只能修改一次，您已修改过。", En: "A rating can be changed once, and yours has been changed already."},
	RatingClosed:          {Zh: "已超过可评价的期限（办结后若干天内）。如有意见，可拨打12345政务服务热线。", En: "The time to rate this application is over. For a complaint, call the 12345 hotline."},
	RectificationNotFound: {Zh: "没有找到该整改事项，或它不属于您的部门。", En: "There is no such rectification for your department."},
	RectificationState:    {Zh: "该整改事项当前状态下不能进行这项操作，请刷新页面后查看。", En: "The rectification is not at the step for this. Reload and check."},
	VerdictGiven:          {Zh: "您已评价过整改结果，只能评价一次。", En: "You have judged this rectification already; it is judged once."},

	// The citizen site: commitments, ratings (portal).
	AlreadyRated:      {Zh: "您已评价过该办件，请刷新页面查看。", En: "You have rated this application already. Reload the page to see it."},
	BadStars:          {Zh: "请选择一至五颗星。", En: "Choose from one to five stars."},
	CommentTooLong:    {Zh: "评价内容过长，请精简。", En: "The comment is too long. Shorten it."},
	CommitmentChanged: {Zh: "承诺内容在您阅读后已更新，请重新阅读后签署。", En: "The wording changed since the page was shown. Read it again and sign."},
	NoPledge:          {Zh: "请勾选“我承诺”后再提交。", En: "Tick “I pledge” to make the pledge."},
	NotFinished:       {Zh: "办件办结后才能评价。", En: "An application can be rated once it is finished."},

	// Staff pages (workbench).
	DeferralUnsigned:         {Zh: "申请人须先签署按期补交该材料的承诺书，再勾选“申请人已在窗口签署上述承诺”。", En: "The applicant signs the commitment to supply it by the date first; then tick the box."},
	NoAssignee:               {Zh: "请选择接办人员。", En: "Choose whom to hand the step to."},
	NothingTicked:            {Zh: "请至少勾选一项需要申请人补正或补交的内容。", En: "Tick at least one field or material the applicant must correct or supply."},
	OwnAdminRole:             {Zh: "不能取消自己的管理员角色，请由其他管理员操作。", En: "You cannot take away your own administrator role. Ask another administrator."},
	CorrectionReasonRequired: {Zh: "请逐项写明需要补正的问题，便于申请人一次改好。", En: "Say what is wrong with each ticked item, so the applicant can fix everything at once."},

	// Applications: the apply wizard, modes, materials and the back office (application).
	AlreadyAnswered:            {Zh: "您已答复过该邀请。", En: "You have answered this invitation already."},
	AlreadyDecided:             {Zh: "办件已办结。", En: "The application is decided already."},
	NotGranted:                 {Zh: "只有系统主动为您办理（免申即享）的事项可以放弃。", En: "Only a service the platform granted you on its own initiative can be declined."},
	AlreadyDeclined:            {Zh: "您已放弃该项服务。", En: "You have declined this service already."},
	InvitationNotFound:         {Zh: "没有找到该邀请。", En: "There is no such invitation."},
	ApplicationNotFound:        {Zh: "没有找到该办件。", En: "There is no such application."},
	Attached:                   {Zh: "该材料已提供，无需容缺。", En: "This material is supplied already."},
	BadAnswers:                 {Zh: "情形选择不完整或有误，请按下列提示修改：", En: "The situation answers are incomplete or wrong. Fix these:"},
	BadChannel:                 {Zh: "办理渠道有误。", En: "The channel is not one the platform knows."},
	BadCorrection:              {Zh: "补正通知有误，请按下列提示修改：", En: "The correction request is not right. Fix these:"},
	BadDate:                    {Zh: "请按“年-月-日”选择补交日期。", En: "Give the date as YYYY-MM-DD."},
	BadForm:                    {Zh: "以下内容未能识别，请修改：", En: "Some fields could not be read. Fix these:"},
	BadIdempotencyKey:          {Zh: "请求的幂等键格式有误。", En: "The Idempotency-Key is too long or has surrounding spaces."},
	BadIfMatch:                 {Zh: "请求的版本号有误。", En: "If-Match must carry the application's revision, a whole number."},
	BadOutcome:                 {Zh: "请选择办理结果。", En: "Choose the outcome."},
	BadParties:                 {Zh: "当事人信息有误，请按下列提示修改：", En: "The parties are not right. Fix these:"},
	BadResult:                  {Zh: "请选择核查结果：承诺属实或承诺不实。", En: "Choose whether the commitment was truthful or false."},
	BadSpecialProcedure:        {Zh: "请选择特别程序（听证、检验检测、专家评审或现场勘查）并说明理由。", En: "Choose the special procedure (hearing, testing, expert review or site inspection) and say why."},
	CannotWorkTask:             {Zh: "您没有办理该环节的权限。", En: "You may not work this step."},
	OnlyPersonSigns:            {Zh: "承诺只能由申请人本人签署；在窗口办理的，由受理大厅的窗口人员记录其签字。", En: "Only the applicants themselves sign their commitments; at a hall window, a clerk of that hall records their signature."},
	ClerksVerify:               {Zh: "只有受理该办件的窗口人员才能标记扫描件已与原件核对。", En: "Only the clerk who took the application in may mark a scan as checked against the original."},
	ClockStopped:               {Zh: "办件处于补正或特别程序中，计时已暂停，待其结束后再办理。", En: "The clock is stopped for a correction or a special procedure. Wait for it to end."},
	CommitmentText:             {Zh: "承诺书内容与事项规定的不一致，请刷新页面后重新签署。", En: "Sign the commitment exactly as the item words it. Reload the page and sign again."},
	CommitmentUnsigned:         {Zh: "本事项实行告知承诺制，请先签署告知承诺书再提交。", En: "This item is approved on commitment. Sign the commitment before submitting."},
	ConsentRequired:            {Zh: "请勾选同意读取您的数据，以便为您自动填写表单。", En: "Agree to let the platform read your data from government sources, so it can fill the form for you."},
	CorrectionIncomplete:       {Zh: "补正内容尚未全部提交。", En: "The correction is not complete yet."},
	DecisionNotFound:           {Zh: "该办件没有系统自动审批记录。", En: "The application has no machine decision."},
	DuePassed:                  {Zh: "补交日期须晚于今天。", En: "The due date must be in the future."},
	EnterpriseItem:             {Zh: "该事项须由企业办理：请以企业经办人身份办理，或携带企业材料到窗口办理。", En: "This item is applied for by an enterprise. Act for your enterprise first, or bring its papers to a window."},
	FromGovernmentData:         {Zh: "该材料已从部门数据自动调取，无需再提供。", En: "This material is attached from government data already: there is nothing to supply."},
	HeadOnly:                   {Zh: "只有部门负责人才能改派任务。", En: "Only the department head may reassign tasks."},
	IdempotencyKeyRequired:     {Zh: "一次办结的请求须带幂等键，以便重试时不会重复申请。", En: "A one-call application needs an Idempotency-Key header, so that a retry never applies twice."},
	IdempotencyKeyReused:       {Zh: "该幂等键已用于另一个请求，请为新请求使用新的幂等键。", En: "This Idempotency-Key was used for a different request. Use a new key for a new request."},
	IdentityAndConsentRequired: {Zh: "请在窗口核验申请人身份证件，并由申请人签署数据读取授权后再受理。", En: "Check the applicant's identity card at the window and have them consent to reading their data first."},
	IdentityCardNotChecked:     {Zh: "请先读取身份证并进行人证比对，勾选确认后再提升实名等级。", En: "Read the identity card and match its photo to the person, then tick the box before raising the level."},
	Incomplete:                 {Zh: "还有必填内容未填写：", En: "Fill in these items before submitting:"},
	MaterialNotFound:           {Zh: "本办件没有这项材料。", En: "The application has no such material."},
	MaterialsMissing:           {Zh: "还有必须提供的材料未提供（事项允许时可承诺容缺）：", En: "Supply these materials, or defer them under a commitment where the item allows:"},
	NoCommitment:               {Zh: "本事项实行告知承诺制，请勾选并签署告知承诺书后再提交。", En: "This item is approved on your signed commitment: tick the box to sign it."},
	NoCorrection:               {Zh: "本办件没有待补正的内容。", En: "The application has no correction waiting for you."},
	NoFile:                     {Zh: "请选择要上传的文件（不超过32MB）。", En: "Choose a file to upload (at most 32 MB)."},
	NoHall:                     {Zh: "您的账号尚未分配到办事大厅，请联系系统管理员。", En: "Your account is not posted to a hall. A system administrator must assign you one."},
	NoParties:                  {Zh: "本事项没有其他当事人。", En: "This item has no co-parties."},
	NotAStep:                   {Zh: "该任务不属于审批环节，请使用其专门的操作办理。", En: "This task is not a decision step. Record its outcome with its own action."},
	NotAccepted:                {Zh: "该材料不能以这种方式提供。", En: "This material cannot be supplied this way."},
	NotAllowedNow:              {Zh: "办件当前所处的状态不允许这项操作，请刷新页面后查看。", En: "The application's state does not allow this now. Reload and check."},
	NotAnInspection:            {Zh: "该任务不是告知承诺核查任务。", En: "This task is not an inspection."},
	NotAnObjection:             {Zh: "该任务不是公示异议审查任务。", En: "This task is not the review of an objection."},
	NotAsked:                   {Zh: "补正通知没有要求补交该材料。", En: "The correction does not ask for this."},
	NotClaimed:                 {Zh: "请先认领该任务再办理。", En: "Claim the task first."},
	NotDeferrable:              {Zh: "该材料不能容缺，请现在提供。", En: "This material cannot be supplied later: supply it now."},
	NotEditable:                {Zh: "办件已进入办理环节，材料不能再修改。", En: "The application is being handled: its materials can no longer change."},
	NotThisStage:               {Zh: "办件已不在该任务所属的环节，请刷新页面。", En: "The application has moved past this task's stage. Reload the page."},
	NoticeEnded:                {Zh: "公示期已结束，不能再提出异议。", En: "The notice period has ended: objections are closed."},
	NoticeNotFound:             {Zh: "该公示不存在或已结束。", En: "There is no such notice open for objections."},
	OutsideAuthorisation:       {Zh: "您获得的授权不包括该事项。", En: "Your authorisation does not cover this item."},
	OwnFiling:                  {Zh: "不能对自己的备案提出异议；如不再办理，请撤回申请。", En: "You cannot object to your own filing; withdraw it instead."},
	PartiesMissing:             {Zh: "请先填写全部当事人，再提交申请。", En: "Name every co-party before submitting."},
	PersonItem:                 {Zh: "该事项须由本人办理：请先退出企业经办身份。", En: "This item is applied for by a person for themselves. Stop acting for the enterprise first."},
	StaleApplication:           {Zh: "办件在此期间已有变化，请刷新页面后重试。", En: "The application changed meanwhile. Reload it and try again."},
	TaskClaimed:                {Zh: "该任务已由其他审查人员认领；请联系对方或部门负责人释放后再办理。", En: "Another reviewer has claimed this task. Ask them or the department head to release it."},
	TaskDone:                   {Zh: "该任务已办结。", En: "This task is done already."},
	TaskNotFound:               {Zh: "您的待办中没有该任务。", En: "There is no such task in your inbox."},
	ReasonsRequired:            {Zh: "请填写异议理由（不超过2000字）。", En: "Say why you object (up to 2000 characters)."},
	ReasonRequired:             {Zh: "请填写拒绝的理由，申请人会收到。", En: "Say why you refuse: the applicant is told."},
	RejectionReasonsRequired:   {Zh: "不予批准时须写明理由，申请人会收到。", En: "A rejection must give the applicant its reasons."},
	UpholdReasonsRequired:      {Zh: "异议成立时须写明理由，申请人会收到。", En: "Upholding an objection must give the applicant its reasons."},
	InspectionNoteRequired:     {Zh: "核查认定承诺不实时，须写明核查发现的情况。", En: "A false commitment must say what the inspection found."},
	RevocationReasonRequired:   {Zh: "请填写撤销的理由，申请人会收到。", En: "Say why the approval is revoked: the applicant is told."},
	SwitchReasonRequired:       {Zh: "请填写暂停或恢复系统自动审批的理由。", En: "Say why machine approval is switched off or on."},
	// Credit levels, lists and repair (credit).
	CreditBlacklisted:       {Zh: "您已被列入失信名单，不能以告知承诺或容缺受理方式办理；请补齐全部材料，或在信用修复后再使用。", En: "You are on the credit blacklist: commitments and deferred materials are not open to you. Supply every material, or repair your credit first."},
	CreditRecordNotFound:    {Zh: "在您的信用记录中没有找到该记录。", En: "There is no such record among your credit records."},
	CreditRepairNotFound:    {Zh: "本部门没有该信用修复申请。", En: "There is no such credit repair application in your department."},
	CreditAlreadyRepaired:   {Zh: "该信用记录已经修复。", En: "This credit record is already repaired."},
	CreditRepairPending:     {Zh: "该信用记录已有修复申请正在审核，请等待结果。", En: "A repair of this record is already being reviewed. Wait for its outcome."},
	CreditRepairDecided:     {Zh: "该修复申请已经办结。", En: "This repair application is already decided."},
	CreditRepairTooEarly:    {Zh: "该信用记录形成时间尚短，暂不能申请修复，请在可申请日期后再来。", En: "This record is too recent to repair. Apply on or after the date given."},
	CreditPledgeRequired:    {Zh: "请阅读并勾选信用承诺书后再提交。", En: "Read and tick the credit pledge before you apply."},
	CreditStatementRequired: {Zh: "请说明您已如何纠正失信行为、履行相关义务（不超过2000字）。", En: "Say how you have put the matter right and met your obligations (up to 2000 characters)."},
	// Spot checks (双随机一公开).
	SpotCheckNotFound: {Zh: "您的部门没有该抽查任务。", En: "There is no such spot check in your department."},
	NotYourSpotCheck:  {Zh: "该抽查任务已随机分配给本部门其他核查人员，只有被分配的人员可以记录结果。", En: "This spot check was assigned to another inspector: only they can record its result."},
	SpotCheckDone:     {Zh: "该抽查任务已记录结果。", En: "This spot check's result is recorded already."},
	SpotCheckNotLate:  {Zh: "该抽查任务已分配且未超期，核查人员可在期限内完成。", En: "This spot check is assigned and not yet due: its inspector has until the deadline."},
	NoInspector:       {Zh: "该部门没有其他可分配的核查人员（审核人员或负责人）。", En: "The department has no other reviewer or head to assign it to."},
	FindingsRequired:  {Zh: "抽查不合格或责令整改时须写明发现的问题（不超过2000字）。", En: "A spot check that does not pass must say what was found (up to 2000 characters)."},
	BadSpotStatus:     {Zh: "抽查状态只能是待核查、合格、不合格或责令整改。", En: "The status must be open, confirmed, violation or corrected."},
	BadSpotResult:     {Zh: "请选择抽查结果：合格、不合格或责令整改。", En: "Choose the result: pass, fail or correct."},
	BadMonth:          {Zh: "月份的格式为 年-月，例如 2026-12。", En: "Write the month as YYYY-MM, e.g. 2026-12."},

	// The supervisors' board (supervision).
	NothingToAlert: {Zh: "该部门目前没有需要督办的事项，未发送提醒。", En: "This department has nothing to attend to now; no alert was sent."},
	AlreadyAlerted: {Zh: "今天已提醒过该部门负责人，明天可再次提醒。", En: "This department's heads were alerted today already; alert again tomorrow."},

	// Rule-change simulations (simulate).
	SimulationNotFound: {Zh: "没有找到该模拟。", En: "There is no such simulation."},
	BadSince:           {Zh: "起始日期的格式为 年-月-日，例如 2026-01-01。", En: "Write the first day as YYYY-MM-DD, e.g. 2026-01-01."},
	VersionNotOfItem:   {Zh: "该版本不属于此事项，请从事项的版本列表中选择。", En: "That version is not one of this item's: choose one from the item's versions."},
	RulesDoNotCompile:  {Zh: "该版本的规则无法编译，请先在“试算规则”中修正。", En: "The rules of that version do not compile: correct them first (try the rules)."},
	// The service-performance dashboard (insight).
	BadInsightPeriod: {Zh: "统计周期只能是日、周、月或年。", En: "The period is day, week, month or year."},
	BadInsightRange:  {Zh: "请按 年-月-日 填写起止日期，起始日不晚于截止日，跨度不超过十年。", En: "Give the dates as YYYY-MM-DD, the first not after the last, at most ten years apart."},
	InsightOtherDept: {Zh: "部门负责人只能查看本部门的办件效能。", En: "A department head sees the figures of their own department only."},
}
