// duban's pages work without this script; with it: a form is sent once however often its button
// is pressed, and "use my location" fills the coordinates from the browser's geolocation.
(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-once')) return;
    if (form.getAttribute('data-sent') === 'true') {
      event.preventDefault();
      return;
    }
    form.setAttribute('data-sent', 'true');
    form.setAttribute('aria-busy', 'true');
    // After the entry list is built: a disabled button is left out of it, the form is not.
    setTimeout(function () {
      form.querySelectorAll('button[type=submit]').forEach(function (button) {
        button.disabled = true;
        if (button.dataset.busyText) button.textContent = button.dataset.busyText;
      });
    }, 0);
  });
  // Coming back to the page from the history: the form may be sent again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    document.querySelectorAll('form[data-sent]').forEach(function (form) {
      form.removeAttribute('data-sent');
      form.removeAttribute('aria-busy');
      form.querySelectorAll('button[type=submit]').forEach(function (button) {
        button.disabled = false;
        if (button.dataset.idleText) button.textContent = button.dataset.idleText;
      });
    });
  });
  document.querySelectorAll('[data-geolocate]').forEach(function (button) {
    var form = button.form;
    var status = document.getElementById(button.getAttribute('aria-controls') || '');
    if (!form || !status || !('geolocation' in navigator)) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      status.textContent = button.dataset.locating || '';
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var lat = position.coords.latitude.toFixed(6);
          var lng = position.coords.longitude.toFixed(6);
          form.elements.namedItem('lat').value = lat;
          form.elements.namedItem('lng').value = lng;
          status.textContent = (button.dataset.located || '').replace('{lat}', lat).replace('{lng}', lng);
        },
        function () {
          status.textContent = button.dataset.failed || '';
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  });
})();
