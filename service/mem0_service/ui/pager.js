// Previous / next over an offset-paginated listing.

import { $, h } from "./dom.js";
import { t } from "./i18n.js";

export function renderPager(name, { offset, limit, total, count }, go) {
  const pager = $(`[data-pager="${name}"]`);
  if (!total) {
    pager.replaceChildren();
    return;
  }
  pager.replaceChildren(
    h("button", { type: "button", disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)),
                  text: t("previous") }),
    h("span", { text: t("page", { from: offset + 1, to: offset + count, total }) }),
    h("button", { type: "button", disabled: offset + count >= total, onclick: () => go(offset + limit),
                  text: t("next") }),
  );
}
