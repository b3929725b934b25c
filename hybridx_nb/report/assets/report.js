(function(){if(window.hxTables)return;window.hxTables=true;
function txt(td){return td?td.textContent.trim():"";}
function cmp(a,b){var x=parseFloat(a.replace(/,/g,"")),y=parseFloat(b.replace(/,/g,""));
 if(!isNaN(x)&&!isNaN(y)&&/^[\d,.\-]+$/.test(a)&&/^[\d,.\-]+$/.test(b))return x-y;return a.localeCompare(b);}
document.addEventListener("click",function(ev){var th=ev.target.closest&&ev.target.closest("table.hx-sortable th");
 if(!th)return;var table=th.closest("table"),i=Array.prototype.indexOf.call(th.parentNode.children,th);
 var asc=th.getAttribute("aria-sort")!=="ascending";Array.prototype.forEach.call(th.parentNode.children,function(h){h.removeAttribute("aria-sort");});
 th.setAttribute("aria-sort",asc?"ascending":"descending");var recs=Array.prototype.slice.call(table.tBodies);
 recs.sort(function(a,b){var c=cmp(txt(a.rows[0].cells[i]),txt(b.rows[0].cells[i]));return asc?c:-c;});
 recs.forEach(function(r){table.appendChild(r);});});
document.addEventListener("input",function(ev){var box=ev.target;if(!box.classList||!box.classList.contains("hx-filter"))return;
 var wrap=box.closest(".hx-tablewrap"),q=box.value.toLowerCase(),n=0,rows=wrap.querySelectorAll("tbody");
 rows.forEach(function(r){var hit=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.style.display=hit?"":"none";if(hit)n++;});
 wrap.querySelector(".hx-count").textContent=q?n+" of "+rows.length+" rows":"";});})();
