// /docs for administrators: Swagger UI from /static/vendor (no CDN) reading the app's OpenAPI
// document. "Try it out" acts as the signed-in administrator: the session cookie is sent and
// writes carry the session's CSRF header, as the API requires for cookie sign-ins.
(function () {
  "use strict";

  // Swagger UI 5.3x draws a list of 150 or more tags and operations "virtualized": only the
  // ones near the viewport exist in the page, so the browser's find (Ctrl+F) misses the others
  // and a list nested in the page frame shows a handful. Our API is that long; this draws
  // every tag with all its operations, as Swagger UI itself does for a shorter list.
  function AllOperations(props) {
    var React = props.getSystem().React;
    var tagged = props.specSelectors.taggedOperations();
    var methods = props.specSelectors.validOperationMethods();
    if (tagged.size === 0) {
      return React.createElement("h3", null, "接口文档中没有接口");
    }
    var OperationTag = props.getComponent("OperationTag");
    var OperationContainer = props.getComponent("OperationContainer", true);
    return React.createElement("div", null, tagged.map(function (tagObj, tag) {
      var operations = tagObj.get("operations").map(function (op) {
        var path = op.get("path");
        var method = op.get("method");
        if (methods.indexOf(method) === -1) {
          return null;
        }
        return React.createElement(OperationContainer, {
          key: path + "-" + method,
          specPath: op.get("specPath"),
          op: op,
          path: path,
          method: method,
          tag: tag,
        });
      }).toArray();
      return React.createElement(OperationTag, {
        key: "operation-" + tag,
        tagObj: tagObj,
        tag: tag,
        oas3Selectors: props.oas3Selectors,
        layoutSelectors: props.layoutSelectors,
        layoutActions: props.layoutActions,
        getConfigs: props.getConfigs,
        getComponent: props.getComponent,
        specUrl: props.specSelectors.url(),
      }, React.createElement("div", { className: "operation-tag-content" }, operations));
    }).valueSeq().toArray());
  }

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
      plugins: [function () { return { components: { operations: AllOperations } }; }],
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
