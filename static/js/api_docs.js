// The API's browsable reference (templates/api/docs.html): Swagger UI, vendored in
// static/vendor/swagger-ui/ and loaded before this module, on the API's OpenAPI document.
//
// "Try it out" calls the API from this page (same origin). With a token given to Authorize,
// the request carries it and the token decides. Without one, the browser's session cookie goes
// along, and a write needs the page's CSRF token in X-CSRFToken, as the API asks of sessions.

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const root = document.getElementById("swagger-ui");
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content;

if (root && window.SwaggerUIBundle) {
  document.querySelector("[data-api-docs-without-script]")?.setAttribute("hidden", "");
  window.SwaggerUIBundle({
    domNode: root,
    url: root.dataset.url,
    deepLinking: true,
    // Swagger UI would send the document to an outside validator (and show its badge).
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    requestInterceptor(request) {
      const method = (request.method || "GET").toUpperCase();
      if (csrfToken && !SAFE_METHODS.has(method) && !request.headers.Authorization) {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
}
