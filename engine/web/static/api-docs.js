// /docs for administrators: Swagger UI from /static/vendor (no CDN) reading the app's OpenAPI
// document. "Try it out" acts as the signed-in administrator: the session cookie is sent and
// writes carry the session's CSRF header, as the API requires for cookie sign-ins.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    if (!root || !window.SwaggerUIBundle) {
      return;
    }
    var loading = root.querySelector(".api-docs-loading");
    if (loading) {
      loading.remove();
    }
    window.SwaggerUIBundle({
      url: root.dataset.openapi,
      domNode: root,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: false,
      validatorUrl: null, // the default would ask validator.swagger.io about our spec
      withCredentials: true,
      requestInterceptor: function (request) {
        request.headers[root.dataset.csrfHeader] = root.dataset.csrf;
        return request;
      },
    });
  });
})();
