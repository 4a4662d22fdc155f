// The Share dialog (API.md "Sharing a project"): the owner sees members with their roles, changes
// or removes them, invites by e-mail, copies or revokes pending invitation links; anyone else
// sees who is in the project and can leave it.
import { api, h, toast } from "../api.js";

const ROLES = ["viewer", "commenter", "editor"];
const ROLE_HELP = {
  viewer: "can watch and download",
  commenter: "can also comment",
  editor: "can also edit and export",
  owner: "manages the project",
};

function initial(name) {
  return (name || "?").trim().charAt(0).toUpperCase() || "?";
}

export function avatar(user) {
  return h("span", { class: "avatar", "aria-hidden": "true", text: initial(user && user.name) });
}

function expiresText(iso) {
  const days = Math.round((new Date(iso).getTime() - Date.now()) / 86_400_000);
  if (days <= 0) return "expires today";
  return days === 1 ? "expires tomorrow" : `expires in ${days} days`;
}

export class ShareDialog {
  constructor({ projectId, project, me, onMembers }) {
    this.projectId = projectId;
    this.project = project;
    this.me = me;
    this.isOwner = project.role === "owner";
    this.onMembers = onMembers || (() => {});
    this.members = [];
    this.invitations = [];
    this.dialog = document.getElementById("share-dialog");
    this.memberList = document.getElementById("share-members");
    this.inviteList = document.getElementById("share-invitations");
    this.inviteSection = document.getElementById("share-pending");
    this.form = document.getElementById("share-invite");
    this.leaveButton = document.getElementById("share-leave");
    this.opener = null;

    this.form.hidden = !this.isOwner;
    this.inviteSection.hidden = !this.isOwner;
    this.leaveButton.hidden = this.isOwner;
    document.getElementById("share-intro").textContent = this.isOwner
      ? "Invite people by e-mail. Viewers watch, commenters also comment, editors also edit and export."
      : `${project.owner ? project.owner.name : "The owner"} manages who is in this project. You are ${/^[aeiou]/.test(project.role) ? "an" : "a"} ${project.role}.`;

    document.getElementById("open-share").addEventListener("click", (event) => this.open(event.currentTarget));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.invite();
    });
    this.leaveButton.addEventListener("click", () => this.leave());
    // Focus goes back to what opened the dialog (Escape and the close buttons both end here).
    this.dialog.addEventListener("close", () => this.opener && this.opener.focus());
  }

  async open(opener) {
    this.opener = opener || null;
    if (!this.dialog.open) this.dialog.showModal();
    (this.isOwner ? document.getElementById("share-email") : this.dialog.querySelector(".dialog-foot .btn-primary")).focus();
    await this.load();
  }

  async load() {
    try {
      const page = await api("GET", `/api/projects/${this.projectId}/members?page_size=200`);
      this.members = page.results;
      this.invitations = (page.invitations || []).filter((inv) => inv.status === "pending");
      this.onMembers(this.members);
      this.render();
    } catch (error) {
      this.memberList.replaceChildren(h("li", { class: "muted", text: error.message }));
    }
  }

  render() {
    this.memberList.replaceChildren(...this.members.map((member) => this.memberRow(member)));
    this.inviteList.replaceChildren(...this.invitations.map((inv) => this.invitationRow(inv)));
    if (!this.invitations.length) this.inviteList.append(h("li", { class: "muted share-empty", text: "No pending invitations." }));
  }

  memberRow(member) {
    const { user, role } = member;
    const you = this.me && user.id === this.me.id;
    const who = h(
      "div",
      { class: "share-who" },
      h("span", { class: "share-name", text: you ? `${user.name} (you)` : user.name }),
      h("span", { class: "share-email", text: user.email || "" }),
    );
    let control;
    if (role === "owner") {
      control = h("span", { class: "badge badge-role", title: ROLE_HELP.owner, text: "owner" });
    } else if (this.isOwner) {
      const select = h(
        "select",
        { class: "share-role", "aria-label": `Role of ${user.name}`, onchange: () => this.changeRole(member, select) },
        ...ROLES.map((r) => h("option", { value: r, selected: r === role, text: r })),
      );
      control = h(
        "div",
        { class: "share-controls" },
        select,
        h("button", { type: "button", class: "btn btn-sm btn-ghost btn-danger", "aria-label": `Remove ${user.name}`, text: "Remove", onclick: () => this.remove(member) }),
      );
    } else {
      control = h("span", { class: "badge badge-role", title: ROLE_HELP[role], text: role });
    }
    return h("li", { class: "share-row", dataset: { userId: user.id } }, avatar(user), who, control);
  }

  invitationRow(inv) {
    return h(
      "li",
      { class: "share-row", dataset: { invitationId: inv.id } },
      h("span", { class: "avatar avatar-pending", "aria-hidden": "true", text: "@" }),
      h("div", { class: "share-who" }, h("span", { class: "share-name", text: inv.email }), h("span", { class: "share-email", text: `${inv.role} · ${expiresText(inv.expires_at)}` })),
      h(
        "div",
        { class: "share-controls" },
        h("button", { type: "button", class: "btn btn-sm", "aria-label": `Copy the invitation link for ${inv.email}`, text: "Copy link", onclick: () => this.copyLink(inv) }),
        h("button", { type: "button", class: "btn btn-sm btn-ghost btn-danger", "aria-label": `Revoke the invitation for ${inv.email}`, text: "Revoke", onclick: () => this.revoke(inv) }),
      ),
    );
  }

  async invite() {
    const emailInput = document.getElementById("share-email");
    const role = document.getElementById("share-role").value;
    const email = emailInput.value.trim();
    if (!email) return emailInput.focus();
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const invitation = await api("POST", `/api/projects/${this.projectId}/invitations`, { json: { email, role } });
      this.invitations = [invitation, ...this.invitations.filter((inv) => inv.id !== invitation.id)];
      this.render();
      emailInput.value = "";
      toast(`Invitation sent to ${email}.`, { timeout: 3000, id: "share" });
    } catch (error) {
      toast(error.message, { level: "error", id: "share" });
    } finally {
      button.disabled = false;
      emailInput.focus();
    }
  }

  async changeRole(member, select) {
    try {
      const updated = await api("PATCH", `/api/projects/${this.projectId}/members/${member.user.id}`, { json: { role: select.value } });
      member.role = updated.role;
      toast(`${member.user.name} is now ${updated.role === "editor" ? "an" : "a"} ${updated.role}.`, { timeout: 3000, id: "share" });
    } catch (error) {
      select.value = member.role;
      toast(error.message, { level: "error", id: "share" });
    }
  }

  async remove(member) {
    if (!window.confirm(`Remove ${member.user.name} from “${this.project.name}”?`)) return;
    try {
      await api("DELETE", `/api/projects/${this.projectId}/members/${member.user.id}`);
      this.members = this.members.filter((m) => m !== member);
      this.onMembers(this.members);
      this.render();
      this.dialog.querySelector("#share-email").focus();
    } catch (error) {
      toast(error.message, { level: "error", id: "share" });
    }
  }

  async revoke(inv) {
    try {
      await api("DELETE", `/api/projects/${this.projectId}/invitations/${inv.id}`);
      this.invitations = this.invitations.filter((i) => i !== inv);
      this.render();
      toast(`The invitation for ${inv.email} no longer works.`, { timeout: 3000, id: "share" });
      document.getElementById("share-email").focus();
    } catch (error) {
      toast(error.message, { level: "error", id: "share" });
    }
  }

  async copyLink(inv) {
    try {
      await navigator.clipboard.writeText(inv.url);
      toast("Invitation link copied.", { timeout: 2500, id: "share" });
    } catch {
      // No clipboard (an insecure origin, or permission refused): show the link to copy by hand.
      toast(`Copy this link: ${inv.url}`, { timeout: 0, id: "share" });
    }
  }

  async leave() {
    if (!window.confirm(`Leave “${this.project.name}”? ${this.project.owner ? this.project.owner.name : "The owner"} can invite you again.`)) return;
    try {
      await api("DELETE", `/api/projects/${this.projectId}/members/${this.me.id}`);
      location.assign("/");
    } catch (error) {
      toast(error.message, { level: "error", id: "share" });
    }
  }
}
