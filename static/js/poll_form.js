// A poll's voting form (templates/polls/_vote_form.html), a little easier with JavaScript; it
// works without: the form posts, and the server answers with the errors and the points total.
// - A dots vote: the total of the points given, kept up to date as the voter types (an <output>,
//   so screen readers announce it; each points field is described by it too).
// - After a refused vote (400): the error summary has the focus (where `autofocus` did not give
//   it already), and each of its links puts the focus in the field it names.

const form = document.querySelector("form[data-poll-vote]");

function updateTotal(output) {
  const fields = [...form.querySelectorAll('input[name^="points-"]')];
  const given = fields.reduce((sum, field) => {
    const value = field.value.trim();
    return /^[0-9]{1,6}$/.test(value) ? sum + Number(value) : sum;
  }, 0);
  const points = Number(output.dataset.pointsTotal);
  const text = output.dataset.template.replace("{given}", new Intl.NumberFormat(document.documentElement.lang || undefined).format(given));
  // The text is in a span of its own: each points field is described by it (an <output>'s own
  // content is not read as a description).
  output.querySelector("span").textContent = given > points ? `${text} ${output.dataset.over}` : text;
  output.classList.toggle("over", given > points);
}

if (form) {
  const output = form.querySelector("output[data-points-total]");
  if (output) {
    form.addEventListener("input", (event) => {
      if (event.target.matches('input[name^="points-"]')) updateTotal(output);
    });
  }
}

const summary = document.querySelector("[data-error-summary]");
if (summary) {
  if (document.activeElement !== summary) summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-error-link]");
    const target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.focus();
    target.scrollIntoView({ block: "center" });
  });
}
