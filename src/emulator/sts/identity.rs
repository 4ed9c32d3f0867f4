//! `GetCallerIdentity`: who signed the request. Any caller may ask, even one whose policies
//! deny everything, as in AWS.

use crate::emulator::dispatch::Ctx;
use crate::emulator::iam::enforce::Caller;
use crate::emulator::iam::xml::Xml;

/// The `UserId`, `Account` and `Arn` of `caller`: the account's root (`UserId` is the account
/// ID), an IAM user, or a role session (`AROA...:<session>` and its assumed-role ARN).
pub fn get_caller_identity(ctx: &Ctx, caller: &Caller) -> String {
    let (user_id, account, arn) = match caller {
        Caller::Root => (
            ctx.account.clone(),
            ctx.account.clone(),
            format!("arn:aws:iam::{}:root", ctx.account),
        ),
        Caller::User(owner) => (
            owner.user_id.clone(),
            owner.account.clone(),
            owner.user_arn.clone(),
        ),
        Caller::Role(session) => (session.user_id(), session.account.clone(), session.arn()),
    };
    Xml::new()
        .text("UserId", &user_id)
        .text("Account", &account)
        .text("Arn", &arn)
        .finish()
}
